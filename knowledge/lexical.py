"""Okapi BM25 over each article's own words, to rank articles beside the embedding classifier.

A new bot's FAQ has a handful of question variants an article, and customers word their
questions their own way. The embedding classifier learns each article from those few variants
and its passages; the answer's rarer words ("iCloud", "deposit", "theory test") often say more
than the embedding of a differently worded question does. The article classifier adds
``LEXICAL_WEIGHT`` times the question's BM25 score for each article to its logits
(``knowledge.classifier``), so the ranking, and every confidence feature read from it, hears both.

Each article is one document: all its chunks' text (question variants, title and passages).
Words are read as ``knowledge.coverage.content_words`` reads them. The per-article term weights
are computed once at fit time and kept as one sparse ``articles × vocabulary`` matrix, so a
question costs a lookup of its words and one sparse product.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from knowledge.coverage import content_words

Array = npt.NDArray[np.float64]
# Okapi BM25's usual constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75


class LexicalIndex:
    """BM25 scores of a question against each article.

    Args:
        vocabulary: The words, one per column of ``weights``.
        weights: ``(classes, words)`` BM25 weight of each word in each article.
    """

    def __init__(self, vocabulary: Sequence[str], weights: csr_matrix) -> None:
        self.vocabulary = list(vocabulary)
        self._columns = {word: column for column, word in enumerate(self.vocabulary)}
        self._weights = csr_matrix(weights, dtype=np.float64)
        # Column-major, so that a question's few words read their articles' weights directly.
        self._by_word = self._weights.tocsc()

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: npt.NDArray[np.str_],
        classes: npt.NDArray[np.str_],
    ) -> LexicalIndex:
        """Index the chunk ``texts``, labelled with their article ids, one document an article."""
        counts: list[Counter[str]] = [Counter() for _ in classes]
        row_of = {str(article): row for row, article in enumerate(classes)}
        for text, label in zip(texts, labels, strict=True):
            counts[row_of[str(label)]].update(content_words(text))
        vocabulary = sorted({word for count in counts for word in count})
        columns = {word: column for column, word in enumerate(vocabulary)}
        lengths = np.array([sum(count.values()) for count in counts], dtype=np.float64)
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        frequency = Counter(word for count in counts for word in count)
        size = len(classes)
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, count in enumerate(counts):
            norm = K1 * (1 - B + B * lengths[row] / average)
            for word, tf in count.items():
                idf = np.log(1 + (size - frequency[word] + 0.5) / (frequency[word] + 0.5))
                rows.append(row)
                cols.append(columns[word])
                values.append(float(idf * tf * (K1 + 1) / (tf + norm)))
        weights = csr_matrix((values, (rows, cols)), shape=(size, len(vocabulary)))
        return cls(vocabulary, weights)

    def scores(self, texts: Sequence[str]) -> Array:
        """``(len(texts), classes)`` BM25 scores (each word of a question counted once)."""
        result: Array = np.zeros((len(texts), self._weights.shape[0]))
        by_word = self._by_word
        for row, text in enumerate(texts):
            words = set(content_words(text))
            for column in (self._columns[word] for word in words if word in self._columns):
                start, end = by_word.indptr[column], by_word.indptr[column + 1]
                result[row, by_word.indices[start:end]] += by_word.data[start:end]
        return result

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The index as named arrays, for ``numpy.savez``."""
        return {
            "lexical_vocabulary": np.array(self.vocabulary, dtype=str),
            "lexical_data": self._weights.data,
            "lexical_indices": self._weights.indices,
            "lexical_indptr": self._weights.indptr,
            "lexical_shape": np.array(self._weights.shape, dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, data: dict[str, npt.NDArray[np.generic]]) -> LexicalIndex:
        """The index ``arrays`` saved (KeyError if they are missing)."""
        shape = tuple(int(n) for n in data["lexical_shape"])
        weights = csr_matrix(
            (data["lexical_data"], data["lexical_indices"], data["lexical_indptr"]), shape=shape
        )
        return cls([str(w) for w in data["lexical_vocabulary"]], weights)

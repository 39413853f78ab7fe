"""Okapi BM25 over each article's own words, to rank articles beside the embedding classifier.

A new bot's FAQ has a handful of question variants an article, and customers word their
questions their own way. The embedding classifier learns each article from those few variants
and its passages; the answer's rarer words ("iCloud", "deposit", "theory test") often say more
than the embedding of a differently worded question does. The article classifier adds
``LEXICAL_WEIGHT`` times the question's BM25 score for each article to its logits
(``knowledge.classifier``) to rank them; the confidence still reads the embedding's probability
of the article so ranked (``knowledge.scoring``).

Each article is one document: all its chunks' text (question variants and answer passages).
Words are read as ``knowledge.coverage.content_words`` reads them. The per-article term weights
are computed once at fit time and kept word by word, so a question costs a lookup of each of its
words and an addition of that word's few article weights.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from knowledge.coverage import content_words

Array = npt.NDArray[np.float64]
# Okapi BM25's usual constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
# Longer "words" are no words (a base64 run, an unbroken paragraph of a script without spaces):
# left out, so that one cannot pad every saved word to its length.
MAX_WORD = 40


class LexicalIndex:
    """BM25 scores of a question against each article.

    The weights are kept column by column (compressed sparse columns, in plain numpy: scipy's
    import alone would add a third of a second to the CLI's cold start): word ``w``'s articles
    are ``articles[starts[w]:starts[w + 1]]`` and their weights ``weights[...]`` alike.

    Args:
        vocabulary: The words, sorted.
        starts: ``(words + 1,)`` where each word's entries start.
        articles: Each entry's article (its row among the classes).
        weights: Each entry's BM25 weight.
        classes: How many articles there are.
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        starts: npt.NDArray[np.int64],
        articles: npt.NDArray[np.int64],
        weights: Array,
        classes: int,
    ) -> None:
        self.vocabulary = list(vocabulary)
        self._columns = {word: column for column, word in enumerate(self.vocabulary)}
        self._starts = starts
        self._articles = articles
        self._weights = weights
        self.classes = classes

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
            counts[row_of[str(label)]].update(w for w in content_words(text) if len(w) <= MAX_WORD)
        lengths = np.array([sum(count.values()) for count in counts], dtype=np.float64)
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        entries: dict[str, list[tuple[int, float]]] = {}
        for row, count in enumerate(counts):
            norm = K1 * (1 - B + B * lengths[row] / average)
            for word, tf in count.items():
                entries.setdefault(word, []).append((row, tf * (K1 + 1) / (tf + norm)))
        vocabulary = sorted(entries)
        size = len(classes)
        starts = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        articles: list[int] = []
        weights: list[float] = []
        for column, word in enumerate(vocabulary):
            found = entries[word]
            idf = float(np.log(1 + (size - len(found) + 0.5) / (len(found) + 0.5)))
            articles.extend(row for row, _ in found)
            weights.extend(idf * saturation for _, saturation in found)
            starts[column + 1] = len(articles)
        return cls(
            vocabulary,
            starts,
            np.array(articles, dtype=np.int64),
            np.array(weights, dtype=np.float64),
            size,
        )

    def scores(self, texts: Sequence[str]) -> Array:
        """``(len(texts), classes)`` BM25 scores (each word of a question counted once)."""
        result: Array = np.zeros((len(texts), self.classes))
        for row, text in enumerate(texts):
            words = set(content_words(text))
            for column in (self._columns[word] for word in words if word in self._columns):
                start, end = self._starts[column], self._starts[column + 1]
                result[row, self._articles[start:end]] += self._weights[start:end]
        return result

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The index as named arrays, for ``numpy.savez``."""
        return {
            "lexical_vocabulary": np.array(self.vocabulary, dtype=str),
            "lexical_starts": self._starts,
            "lexical_articles": self._articles,
            "lexical_weights": self._weights,
            "lexical_classes": np.array(self.classes, dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, data: Mapping[str, npt.NDArray[np.generic]]) -> LexicalIndex:
        """The index ``arrays`` saved (KeyError if they are missing)."""
        return cls(
            [str(w) for w in data["lexical_vocabulary"]],
            np.asarray(data["lexical_starts"], dtype=np.int64),
            np.asarray(data["lexical_articles"], dtype=np.int64),
            np.asarray(data["lexical_weights"], dtype=np.float64),
            int(data["lexical_classes"]),
        )

"""A learned lexical head: logistic regression over hashed word and character n-grams.

The embedding heads read what a message is about; some of what makes a message sound
frustrated is in its words and their order ("not angry" against "so angry", "what a joke",
"pathetic"), which a sentence embedding blurs. This head reads them with the hashing trick:

* words (lowercased, apostrophes kept) as unigrams and bigrams, with ``!`` and ``?`` as words;
* character 3- to 5-grams inside each word (padded with spaces), which carry spelling
  variants and word endings;
* negation scope, the usual sentiment-analysis marking: the words after a negation ("not",
  "never", "no", a word ending in "n't", ...) up to the next punctuation, at most three, are
  marked as negated, so that "not angry" does not read like "angry";
* each n-gram hashed (CRC-32) into ``2**bits`` buckets; a message is the L2-normalised
  binary vector of its buckets.

Nothing in it is written by hand: the weights are fitted by ``knowledge.heads.train`` on the
same labelled training data as the embedding heads, and stored as float16 beside them. Reading
a message is a few hundred hashes and a sparse dot product (well under a millisecond), no model.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

DEFAULT_BITS = 16
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]|[.,;:]")
_CHAR_SIZES = (3, 4, 5)
_NEGATIONS = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without", "cannot"}
)
_SCOPE = 3


def _words(text: str) -> list[tuple[str, bool]]:
    """The message's words, each with whether it is in a negation's scope."""
    words: list[tuple[str, bool]] = []
    scope = 0
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        if token in ".,;:":
            scope = 0
            continue
        words.append((token, scope > 0))
        scope = _SCOPE if token in _NEGATIONS or token.endswith("n't") else max(scope - 1, 0)
        if token in "!?":
            scope = 0
    return words


def ngrams(text: str) -> list[str]:
    """The n-grams of one message (before hashing), each tagged with its kind (upper case
    when the word is negated)."""
    words = _words(text)
    grams = [f"{'W' if negated else 'w'}:{w}" for w, negated in words]
    grams += [f"b:{a} {b}" for (a, _), (b, _) in zip(words, words[1:], strict=False)]
    for word, negated in words:
        padded, kind = f" {word} ", "C" if negated else "c"
        for size in _CHAR_SIZES:
            grams += [f"{kind}:{padded[i : i + size]}" for i in range(len(padded) - size + 1)]
    return grams


@functools.lru_cache(maxsize=4096)
def buckets(text: str, bits: int = DEFAULT_BITS) -> npt.NDArray[np.int64]:
    """The distinct hash buckets of one message, sorted (read-only). Remembered: every turn
    reads the conversation's earlier messages again."""
    mask = (1 << bits) - 1
    row = np.unique(
        np.fromiter((zlib.crc32(g.encode()) & mask for g in ngrams(text)), dtype=np.int64)
    )
    row.flags.writeable = False
    return row


def sparse_rows(
    texts: Iterable[str], bits: int = DEFAULT_BITS
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """CSR parts ``(indptr, indices, data)`` of the messages' normalised vectors."""
    indptr, indices, data = [0], [], []
    for text in texts:
        row = buckets(text, bits)
        indices.append(row)
        data.append(np.full(len(row), 1.0 / np.sqrt(max(len(row), 1))))
        indptr.append(indptr[-1] + len(row))
    return (
        np.asarray(indptr, dtype=np.int64),
        np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
        np.concatenate(data) if data else np.zeros(0),
    )


class LexicalHead:
    """One logistic head over hashed n-grams.

    Args:
        weights: ``(2**bits,)`` weights, one per bucket.
        intercept: The bias.
    """

    def __init__(self, weights: npt.NDArray[np.floating], intercept: float) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.intercept = float(intercept)
        self.bits = int(np.log2(len(self.weights)))
        if 1 << self.bits != len(self.weights):
            raise ValueError("the number of weights must be a power of two")

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """The head's logit for each message."""
        out = np.empty(len(texts))
        for i, text in enumerate(texts):
            row = buckets(text, self.bits)
            norm = np.sqrt(max(len(row), 1))
            out[i] = float(self.weights[row].sum()) / norm + self.intercept
        return out

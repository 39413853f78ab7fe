"""How much of a question an article's own text speaks to.

On a small knowledge base the classifier, the question-variant similarity and the neighbourhood
all agree when a question is on an article's topic but asks about something the article does
not hold ("ashwagandha side effects?" beside an article on how to take ashwagandha): the topic
is right, so the confidence is high. The words tell: the question's rarer words appear nowhere
in the article's questions or answer. ``ArticleWords.missing`` is that share, each word weighted
by its inverse article frequency (a word no article holds weighs most).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Container, Iterable, Mapping

STOP_WORDS = frozenset(
    "a an the i me my we our you your it its is are was were be been am do does did can could "
    "would should will shall may might must to of in on at for from by with about as and or but "
    "if so not no yes this that these those there here what when where which who whom why how "
    "any some all more most much many one just also too very please hi hello thanks thank ok "
    "okay u ur pls plz im dont cant get got have has had want need like know tell they them "
    "their he she him her his "
    # What is left of a contraction once its apostrophe splits it ("don't", "I've"; not "won",
    # a word of its own).
    "don doesn didn isn aren wasn weren wouldn couldn shouldn haven hasn hadn ve ll re".split()
)

_SUFFIXES = ("ing", "ed", "es", "s")


def content_words(text: str) -> list[str]:
    """Lowercased words that carry content, with a crude plural and tense stem."""
    found = []
    for word in re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold()):
        if word in STOP_WORDS or len(word) < 2 or word.isdigit():
            continue
        for suffix in _SUFFIXES:
            if len(word) > 4 and word.endswith(suffix):
                word = word[: -len(suffix)]
                break
        found.append(word)
    return found


# Words that name nothing asked about (as ``content_words`` reads them): "Can you help?" or
# "Does that work?" does not stand for the message before it, where "Can I return it?" does.
GENERIC_ASKS = frozenset(
    content_words(
        "help assist advise advice sort fix work possible anything something anyone someone "
        "done go make right sure"
    )
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_ASKING = re.compile(
    r"^\s*(?:can|could|would|will|do|does|did|is|are|was|were|how|what|when|where|which|who|"
    r"why|should|may|might|have|has)\b",
    re.IGNORECASE,
)


def asking_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that ask: ending in a question mark or opening like a question
    (only when there is more than one sentence)."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if len(sentences) < 2:
        return []
    return [s for s in sentences if s.endswith("?") or _ASKING.match(s)]


class ArticleWords:
    """Each article's content words, from its question variants, title and answer."""

    def __init__(self, texts: Mapping[str, Iterable[str]]) -> None:
        self._words = {
            article: {w for text in parts for w in content_words(text)}
            for article, parts in texts.items()
        }
        self._frequency = Counter(w for words in self._words.values() for w in words)

    def missing(self, question: str, article_id: str) -> float:
        """The weighted share of ``question``'s content words that ``article_id``'s text does
        not hold: 0 when it holds them all (or the question has none), 1 when it holds none.

        Customers often tell their story before they ask ("I ordered a lamp on Monday. How long
        does delivery take?"), so a sentence that asks is enough: the least missing of the
        whole message and each of its asking sentences that says enough to stand for it ("What
        do I do?" or "Can you help?" does not: its words name nothing asked about, so the
        message is read whole)."""
        asked = [content_words(s) for s in asking_sentences(question)]
        parts = [content_words(question), *(words for words in asked if set(words) - GENERIC_ASKS)]
        return min(self._missing(words, article_id) for words in parts)

    def unknown(self, question: str) -> float:
        """The weighted share of ``question``'s content words that no article holds."""
        return self._not_in(content_words(question), self._frequency)

    def _missing(self, words: list[str], article_id: str) -> float:
        return self._not_in(words, self._words.get(article_id, set()))

    def _not_in(self, words: list[str], held: Container[str]) -> float:
        size = len(self._words) + 1
        weights = {w: math.log(size / (self._frequency.get(w, 0) + 0.5)) for w in words}
        total = sum(weights.values())
        return sum(v for w, v in weights.items() if w not in held) / total if total else 0.0

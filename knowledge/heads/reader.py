"""The ``SignalReader`` port: signal heads and example-defined topics over the query embedding."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.calm_words import calm_rest, solved_rest
from bot.conversation_frustration import ConversationFrustration
from bot.model import Reading
from bot.signals import level
from knowledge.embeddings.base import Vectors
from knowledge.heads.model import HEADS_DIR, HEADS_FILE, TOPIC_NAMES, SignalHeads, fingerprint

logger = logging.getLogger(__name__)

CONVERSATION_FILE = HEADS_DIR / "conversation_frustration.json"


class HeadReader:
    """Reads every head, and every topic an admin defined by example phrases, in one pass.

    Args:
        embed: Embeds texts (the knowledge base's cached query embedder).
        heads: The trained heads, or None when they do not fit the embedding model.
        topic_examples: Extra sensitive topics, each defined by a few example phrases.
        example_similarity: Cosine similarity to an example (or to their centroid) at which
            such a topic fires.
    """

    def __init__(
        self,
        *,
        embed: Callable[[Sequence[str]], Vectors],
        heads: SignalHeads | None,
        topic_examples: Mapping[str, Sequence[str]] | None = None,
        example_similarity: float = 0.5,
    ) -> None:
        self._embed = embed
        self._heads = heads
        self._similarity = example_similarity
        self._examples = {
            name: embed(list(phrases))
            for name, phrases in (topic_examples or {}).items()
            if phrases
        }

    @property
    def heads(self) -> SignalHeads | None:
        """The trained heads this reader reads with (None: only example-defined topics)."""
        return self._heads

    @property
    def has_heads(self) -> bool:
        """Whether the trained heads read the messages (else only example-defined topics)."""
        return self._heads is not None

    @property
    def topics(self) -> frozenset[str]:
        """Topic names this reader can flag: the heads' topics and the example-defined ones."""
        heads = set(self._heads.names) if self._heads else set()
        return frozenset((heads & set(TOPIC_NAMES)) | set(self._examples))

    def read(self, texts: Sequence[str]) -> list[Reading]:
        if not texts:
            return []
        calm_rests = self._rests(texts, calm_rest)
        solved_rests = self._rests(texts, solved_rest)
        worded = [rest for rests in (calm_rests, solved_rests) for rest in rests if rest]
        # One embedding call for the messages and the rests of those with calm or solving words.
        embedded = self._embed([*texts, *worded])
        vectors = embedded[: len(texts)]
        levels: list[dict[str, float]] = [{} for _ in texts]
        if self._heads is not None:
            for name, probabilities in self._heads.score(vectors, list(texts)).items():
                threshold = self._heads.thresholds[name]
                for row, probability in enumerate(probabilities):
                    levels[row][name] = level(float(probability), threshold)
        for name, examples in self._examples.items():
            centroid = examples.mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            best = np.maximum((vectors @ examples.T).max(axis=1), vectors @ centroid)
            for row, similarity in enumerate(best):
                levels[row][name] = max(
                    levels[row].get(name, 0.0), level(float(similarity), self._similarity)
                )
        similarity = vectors @ vectors.T
        echoes = [float(np.max(similarity[i, :i])) if i else 0.0 for i in range(len(texts))]
        punctuation = self._heads is not None and "frustration" in self._heads.lexical
        # The rests' levels come in the order they were embedded: calm rests, then solved ones.
        rest_levels = iter(self._rest_levels(worded, embedded[len(texts) :]))
        calm, solved = (_placed(rests, rest_levels) for rests in (calm_rests, solved_rests))
        return [
            Reading(levels=lv, echo=e, punctuation=punctuation, rest=c, solved_rest=r)
            for lv, e, c, r in zip(levels, echoes, calm, solved, strict=True)
        ]

    def _rests(
        self, texts: Sequence[str], rest_of: Callable[[str], str | None]
    ) -> list[str | None]:
        """Each message without its calm or solving words (``rest_of``: ``calm_rest`` or
        ``solved_rest``): None where it has none, or no frustration head would read it."""
        if self._heads is None or "frustration" not in self._heads.names:
            return [None] * len(texts)
        return [rest_of(text) for text in texts]

    def _rest_levels(self, worded: Sequence[str], vectors: Vectors) -> list[float]:
        """The frustration head's level on each rest with words, in order."""
        if not worded or self._heads is None:
            return []
        scores = self._heads.score(vectors, list(worded))["frustration"]
        threshold = self._heads.thresholds["frustration"]
        return [level(float(probability), threshold) for probability in scores]


def _placed(rests: Sequence[str | None], levels: Iterator[float]) -> list[float | None]:
    """Each message's rest level, taken in order from ``levels`` (one for each rest with
    words): 0 where nothing but the calm words is left ("no worries"), None where the message
    has no rest."""
    return [None if rest is None else next(levels) if rest else 0.0 for rest in rests]


def load_heads(embedding_model: str) -> SignalHeads | None:
    """The shipped heads if they were trained on ``embedding_model``, else None (logged)."""
    try:
        heads = SignalHeads.load(HEADS_FILE)
    except (OSError, ValueError, KeyError) as error:
        logger.warning("signal heads unavailable (%s); using patterns only", error)
        return None
    if heads.embedding_model != embedding_model:
        logger.warning(
            "signal heads were trained on %s, not %s; using patterns only",
            heads.embedding_model,
            embedding_model,
        )
        return None
    return heads


def heads_fingerprint(path: Path = HEADS_FILE) -> str:
    """A short hash of a heads file: what a model fitted on its readings names."""
    return fingerprint(path.read_bytes())


def load_conversation_frustration(
    path: Path = CONVERSATION_FILE, *, heads: SignalHeads | None = None
) -> ConversationFrustration | None:
    """The shipped model of frustration over a conversation, if it was fitted on the readings
    of ``heads`` (by default the shipped heads file); else None (logged: the rules weigh the
    conversation instead)."""
    try:
        data = json.loads(path.read_text())
        fitted_on = heads.fingerprint if heads is not None else heads_fingerprint()
        if not isinstance(data, dict) or data.get("heads") != fitted_on:
            raise ValueError(
                "it was fitted on other signal heads (re-run bench/frustration_model.py --write)"
            )
        return ConversationFrustration.from_mapping(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("conversation frustration model unavailable (%s); using rules", error)
        return None

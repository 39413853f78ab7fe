"""The ``SignalReader`` port: signal heads and example-defined topics over the query embedding."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bot.model import Reading
from knowledge.embeddings.base import Vectors
from knowledge.heads.model import HEADS_FILE, TOPIC_NAMES, SignalHeads

logger = logging.getLogger(__name__)


def level(value: float, threshold: float) -> float:
    """Scale a probability or similarity so that ``threshold`` maps to 0.5 (monotonic, 0..1)."""
    threshold = min(max(threshold, 1e-6), 1 - 1e-6)
    if value < threshold:
        return 0.5 * max(value, 0.0) / threshold
    return min(1.0, 0.5 + 0.5 * (value - threshold) / (1 - threshold))


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
    def topics(self) -> frozenset[str]:
        """Topic names this reader can flag: the heads' topics and the example-defined ones."""
        heads = set(self._heads.names) if self._heads else set()
        return frozenset((heads & set(TOPIC_NAMES)) | set(self._examples))

    def read(self, texts: Sequence[str]) -> list[Reading]:
        if not texts:
            return []
        vectors = self._embed(list(texts))
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
        return [
            Reading(levels=lv, echo=e, punctuation=punctuation)
            for lv, e in zip(levels, echoes, strict=True)
        ]


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

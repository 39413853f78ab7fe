"""Frustration over a conversation, weighed by a small model fitted on labelled conversations.

The rules in ``bot.signals.over_conversation`` weigh the conversation's evidence by hand: the
latest turn's level, the earlier turns', a run of mildly negative turns, an answer rejected in so
many words, the same question again. This model weighs the same evidence (and what the heads
read of complaint and of thanks in the latest turn: thanks that a word turns, "thanks for
nothing", count for nothing) with a logistic fitted on labelled support conversations; its
threshold and figures come from leaving one set of conversations out at a time
(``bench/frustration_model.py`` reproduces the shipped file; ``knowledge/heads/MODEL_CARD.md``
gives its data, split and figures). No feature is a word: each is a level the heads read, a
pattern that stands on its own ("third time", "that didn't help") or a similarity. The file
names the heads whose readings it was fitted on, and is refused beside other heads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.model import Reading, Signals
from bot.phrases import NOT_HELPFUL, REPEAT_CONTACT, THANKS_TURNED, no_longer_needed
from bot.signals import level, negative

FEATURES = (
    "latest",
    "earlier_most",
    "negative_just_before",
    "not_helpful",
    "repeat_contact",
    "echo",
    "complaint",
    "thanks",
    "no_longer_needed",
)


def conversation_features(
    texts: Sequence[str], signals: Sequence[Signals], latest: Reading
) -> list[float]:
    """The model's features, in the order of ``FEATURES``.

    Args:
        texts: The customer turns read, oldest first, the latest last (two at least).
        signals: Each turn's own signals, in the same order.
        latest: What the heads read in the latest turn.
    """
    levels = [s.frustration for s in signals]
    earlier = levels[:-1]  # only the worst counts: a worse earlier turn never reads calmer
    before = [negative(lv, t) for lv, t in zip(earlier, texts[:-1], strict=True)][-2:]
    text = texts[-1]
    return [
        levels[-1],
        max(earlier),
        float(sum(before)),
        float(bool(NOT_HELPFUL.search(text))),
        float(bool(REPEAT_CONTACT.search(text))),
        latest.echo,
        latest.levels.get("complaint", 0.0),
        0.0 if THANKS_TURNED.search(text) else latest.levels.get("gratitude", 0.0),
        float(no_longer_needed(text)),
    ]


@dataclass(frozen=True)
class ConversationFrustration:
    """A logistic over standardised ``FEATURES``; its level is 0.5 at the fitted threshold.

    Attributes:
        means: Each feature's mean over the training conversations.
        scales: Each feature's standard deviation there.
        weights: The logistic's weights on the standardised features.
        intercept: The logistic's intercept.
        threshold: The probability at which a person should look (mapped to level 0.5).
    """

    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    threshold: float

    def __post_init__(self) -> None:
        sizes = {len(self.means), len(self.scales), len(self.weights)}
        if sizes != {len(FEATURES)}:
            raise ValueError(f"expected {len(FEATURES)} features, got {sorted(sizes)}")
        numbers = (*self.means, *self.scales, *self.weights, self.intercept)
        if not all(math.isfinite(v) for v in numbers) or min(self.scales) <= 0:
            raise ValueError("the model's numbers must be finite, its scales positive")
        if not 0 < self.threshold < 1:
            raise ValueError(f"the threshold must be a probability, got {self.threshold}")

    @classmethod
    def from_mapping(cls, data: Any) -> ConversationFrustration:
        """Read the shipped file's contents; a file for other features is refused."""
        if not isinstance(data, Mapping):
            raise ValueError("the model file does not hold a JSON object")
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError("the model's features are not this version's")
        return cls(
            means=tuple(float(v) for v in data["means"]),
            scales=tuple(float(v) for v in data["scales"]),
            weights=tuple(float(v) for v in data["weights"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

    def probability(self, features: Sequence[float]) -> float:
        """The logistic's probability that the customer is frustrated."""
        z = self.intercept + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights, features, self.means, self.scales, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def level(self, features: Sequence[float]) -> float:
        """Frustration 0..1 over the conversation; 0.5 is where a person should look."""
        return level(self.probability(features), self.threshold)

"""Learning from the human in the loop: every human decision is a label.

* An agent who answers an escalation says which article it was (or that the knowledge base has
  none): the bot's top article at that confidence was right or wrong.
* A customer who says a bot answer did not help, or an agent who tags another article after the
  bot answered, marks that answer wrong.

These outcomes estimate the live precision and, once there are enough, move the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

TAG_SOURCES = ("agent_tag", "not_in_kb")


@dataclass(frozen=True)
class Outcome:
    """One labelled decision of the bot.

    Attributes:
        question: The customer's question.
        article_id: The article the bot picked (answered, or would have answered with).
        confidence: The bot's confidence in it.
        correct: Whether that article was the right one.
        source: ``agent_tag``, ``not_in_kb``, ``customer_rejected`` or ``agent_corrected``.
    """

    question: str
    article_id: str | None
    confidence: float
    correct: bool
    source: str
    conversation_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class LiveEstimate:
    """What live outcomes say about the threshold.

    Attributes:
        precision: Share of labelled decisions at or above the threshold that were right.
        samples: How many labelled decisions that share is over.
        labelled: All labelled decisions.
        threshold: The threshold the outcomes call for, once there are enough (else None).
    """

    precision: float | None
    samples: int
    labelled: int
    threshold: float | None


def live_estimate(
    outcomes: Sequence[Outcome], *, threshold: float, target: float, min_count: int
) -> LiveEstimate:
    """The live precision at ``threshold``, and the threshold that meets ``target``.

    The threshold is the lowest confidence at which the labelled decisions above it are right
    often enough; it is only proposed once ``min_count`` decisions are labelled, and needs at
    least a quarter of them above it, so that a handful of lucky points cannot lower it.
    """
    above = [o for o in outcomes if o.confidence >= threshold]
    precision = sum(o.correct for o in above) / len(above) if above else None
    proposed: float | None = None
    if len(outcomes) >= min_count:
        ranked = sorted(outcomes, key=lambda o: -o.confidence)
        right = 0
        floor = max(1, min_count // 4)
        for index, outcome in enumerate(ranked, start=1):
            right += outcome.correct
            tied = index < len(ranked) and ranked[index].confidence == outcome.confidence
            if not tied and index >= floor and right / index >= target:
                proposed = outcome.confidence
        if proposed is None:
            proposed = 1.0
    return LiveEstimate(precision, len(above), len(outcomes), proposed)


SAME_QUESTION = 0.8
"""Token Jaccard similarity at which two learned questions count as one."""


def normalised(question: str) -> str:
    """Lower case, words only: how two learned questions are compared."""
    return " ".join(re.findall(r"[a-z0-9]+", question.lower()))


def same_question(first: str, second: str) -> bool:
    """Two learned questions are the same question: equal once normalised, or sharing at least
    ``SAME_QUESTION`` of their words (token Jaccard)."""
    a, b = normalised(first), normalised(second)
    if a == b:
        return True
    words_a, words_b = set(a.split()), set(b.split())
    union = words_a | words_b
    return bool(union) and len(words_a & words_b) / len(union) >= SAME_QUESTION

"""The queue of escalations waiting for a person: ordered by need, not only by age, with a
position and an expected wait for each customer computed from how fast agents pick up now.

Need comes from what the card says (reasons, sentiment and its trend); waiting adds to it, so
that nobody waits for ever behind more urgent cases: after ``AGE_WEIGHT_MINUTES`` of waiting an
escalation outranks any fresh one.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.conversation import Escalation
from bot.model import EscalationReason

REASON_WEIGHTS: dict[str, float] = {
    EscalationReason.SENSITIVE.value: 0.5,
    EscalationReason.FRUSTRATION.value: 0.3,
    EscalationReason.COMPLAINT.value: 0.3,
    EscalationReason.REPEATED_FAILURE.value: 0.2,
    EscalationReason.HUMAN_REQUEST.value: 0.15,
    # Back after an agent's reply, often with what the agent asked for: they waited once.
    EscalationReason.WROTE_BACK.value: 0.3,
}
# Above any fresh case's other weights together (about 1.5).
AT_RISK_WEIGHT = 1.5
SENTIMENT_WEIGHTS = {"negative": 0.2, "slightly negative": 0.1}
RISING = 0.1
AGE_WEIGHT_MINUTES = 30.0
URGENT = 0.8
HIGH = 0.4
PICKUP_WINDOW = timedelta(hours=1)
MIN_PICKUPS = 3  # fewer recent pick-ups than this: quote the configured wait


@dataclass(frozen=True)
class Pickup:
    """When an escalation was raised and when an agent first acted on it."""

    created_at: datetime
    first_action_at: datetime


@dataclass(frozen=True)
class Standing:
    """Where one waiting customer stands.

    Attributes:
        position: 1 for the next to be picked up.
        waiting: Escalations waiting in all.
        minutes: The expected wait, in whole minutes (at least 1).
        from_live_queue: False when too few recent pick-ups were seen and the configured
            wait was quoted instead.
    """

    position: int
    waiting: int
    minutes: int
    from_live_queue: bool


def need(escalation: Escalation) -> float:
    """How much the case needs a person, from its reasons, sentiment and trend (0..~1.5), and
    ``AT_RISK_WEIGHT`` more for a customer who may be at risk (the ``crisis`` topic),
    who comes before every fresh case."""
    score = sum(REASON_WEIGHTS.get(reason, 0.0) for reason in set(escalation.reasons))
    if "crisis" in escalation.summary.topics:
        score += AT_RISK_WEIGHT
    score += SENTIMENT_WEIGHTS.get(escalation.summary.sentiment, 0.0)
    if escalation.summary.trend == "rising":
        score += RISING
    return round(score, 3)


def waited_minutes(escalation: Escalation, now: datetime) -> float:
    return max(0.0, (now - escalation.created_at).total_seconds() / 60)


def priority(escalation: Escalation, now: datetime) -> float:
    """Need plus waiting time: the queue's order, highest first."""
    return round(need(escalation) + waited_minutes(escalation, now) / AGE_WEIGHT_MINUTES, 3)


def label_of(value: float) -> str:
    return "urgent" if value >= URGENT else "high" if value >= HIGH else "normal"


@dataclass(frozen=True)
class Urgency:
    """What every card and the desk list show: priority, its label, the wait in minutes."""

    priority: float
    label: str
    wait_minutes: int


def urgency(escalation: Escalation, now: datetime) -> Urgency:
    """The escalation's urgency at ``now``; its clock stops at the first agent action."""
    until = escalation.first_action_at or now
    value = priority(escalation, until)
    return Urgency(value, label_of(value), int(waited_minutes(escalation, until)))


def ordered(waiting: Sequence[Escalation], now: datetime) -> list[Escalation]:
    """The waiting escalations, the next to pick up first (ties: the oldest first)."""
    return sorted(waiting, key=lambda e: (-priority(e, now), e.created_at, e.id))


def expected_wait(
    position: int, pickups: Sequence[Pickup], now: datetime, configured_minutes: int
) -> tuple[int, bool]:
    """Minutes until the customer at ``position`` is likely picked up, and whether the live
    queue said so.

    With enough pick-ups in the last hour, the wait is the queue ahead served at the recent
    pick-up rate, and never less than the median time a case waited recently. Otherwise the
    configured wait, one step longer for every five waiting ahead.
    """
    recent = [p for p in pickups if now - p.first_action_at <= PICKUP_WINDOW]
    if len(recent) < MIN_PICKUPS:
        return configured_minutes * (1 + (position - 1) // 5), False
    per_minute = len(recent) / (PICKUP_WINDOW.total_seconds() / 60)
    waits = [(p.first_action_at - p.created_at).total_seconds() / 60 for p in recent]
    minutes = max(position / per_minute, statistics.median(waits))
    return max(1, math.ceil(minutes)), True


def standing(
    escalation_id: str,
    waiting: Sequence[Escalation],
    pickups: Sequence[Pickup],
    now: datetime,
    configured_minutes: int,
) -> Standing | None:
    """Where ``escalation_id`` stands in the queue, or None when it is not waiting."""
    queue = ordered(waiting, now)
    ids = [e.id for e in queue]
    if escalation_id not in ids:
        return None
    position = ids.index(escalation_id) + 1
    minutes, live = expected_wait(position, pickups, now, configured_minutes)
    return Standing(position, len(queue), minutes, live)

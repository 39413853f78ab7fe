"""Learning from the human in the loop: every human decision is a label.

* An agent who answers an escalation says which article it was (or that the knowledge base has
  none): the bot's top article at that confidence was right or wrong.
* A customer who says a bot answer did not help, or an agent who tags another article after the
  bot answered, marks that answer wrong.

Tags are outcomes; a wrong answer is a verdict on the recorded answer itself (``Answered``), so
it is weighed at the confidence the bot answered with, against the answers it is one of. These
estimate the live precision and, once there are enough, move the threshold.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

TAG_SOURCES = ("agent_tag", "not_in_kb")
CUSTOMER_REJECTED = "customer_rejected"
AGENT_CORRECTED = "agent_corrected"
AGENT_CONFIRMED = "agent_confirmed"
WRONG = (CUSTOMER_REJECTED, AGENT_CORRECTED)
"""Verdicts that mark an answer wrong. ``agent_confirmed`` (the agent tagged the article the bot
answered with) marks it right, whatever the customer said before."""
REVIEW_RIGHT = "right"
REVIEW_WRONG = "wrong"
"""An agent's review of an answer drawn at random: ``right`` or ``wrong``. Reviews are a
random sample of all answers, so their precision is unbiased (verdicts are heard of only for
wrong answers); the latest human word on an answer, a review outranks a verdict."""
MIN_REVIEWS = 5
"""Reviewed answers a band needs before reviews move the threshold."""


@dataclass(frozen=True)
class Outcome:
    """One labelled decision of the bot.

    Attributes:
        question: The customer's question.
        article_id: The article the bot picked (answered, or would have answered with).
        confidence: The bot's confidence in it.
        correct: Whether that article was the right one.
        source: ``agent_tag``, ``not_in_kb``, ``customer_rejected`` or ``agent_corrected``.
        conversation_id: The conversation it came from, if any.
        at: When the bot decided at that confidence (the escalation opened, the answer was
            given), not when it was labelled: live outcomes are read on the scale in force
            then. Stored as now when absent.
    """

    question: str
    article_id: str | None
    confidence: float
    correct: bool
    source: str
    conversation_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Answered:
    """One answer the bot gave, at the confidence it answered with: how many there were at each
    confidence is what the wrong ones are weighed against.

    Attributes:
        verdict: None while nothing is known; ``customer_rejected`` or ``agent_corrected`` once
            it is known to be wrong, ``agent_confirmed`` once an agent said it was right.
        id: Its row, once stored.
        question: The question it answered.
        review: ``REVIEW_RIGHT`` or ``REVIEW_WRONG`` once an agent reviewed it, drawn at random.
    """

    conversation_id: str
    article_id: str
    confidence: float
    at: datetime | None = None
    verdict: str | None = None
    id: int | None = None
    question: str | None = None
    review: str | None = None

    @property
    def wrong(self) -> bool:
        """Known to be wrong: a review, when there is one, outranks any verdict, earlier or
        later (an agent read the answer against its question, drawn at random)."""
        if self.review is not None:
            return self.review == REVIEW_WRONG
        return self.verdict in WRONG


@dataclass(frozen=True)
class NotedQuestion:
    """A customer question the bot decided on confidence alone, noted for the traffic window
    that every replica reads the out-of-scope share from (``knowledge.traffic``).

    Attributes:
        confidence: The bot's confidence in its top article.
        calibrated_threshold: The calibrated threshold of the model that gave it: confidences
            of a model calibrated elsewhere do not read against the current one.
    """

    confidence: float
    calibrated_threshold: float


@dataclass(frozen=True)
class Verdict:
    """What became known of the stored answer ``answer_id``: one of ``WRONG`` or
    ``AGENT_CONFIRMED``. An agent's verdict overrides any earlier one (their latest tag wins);
    a customer's rejection only lands on an answer nobody judged (counted once)."""

    answer_id: int
    verdict: str


@dataclass(frozen=True)
class LiveEstimate:
    """What live outcomes say about the threshold.

    Attributes:
        precision: Share of tagged escalations at or above the threshold whose top article was
            right (escalated there by a signal, not by doubt: a fair sample of confident
            decisions).
        samples: How many tagged escalations that share is over.
        labelled: The labelled decisions: tagged escalations (each once) and judged answers.
        threshold: The threshold the outcomes call for, once there are enough (else None).
        rejected: The bot's answers known to be wrong (a customer rejected it, an agent
            corrected it, and no agent confirmed it).
        answers: The bot's answers read.
        reviewed: Of those, how many an agent reviewed (drawn at random): a fair sample of
            the answers customers got, at whatever threshold was in force when each was given.
        reviewed_right: How many of those were right.
    """

    precision: float | None
    samples: int
    labelled: int
    threshold: float | None
    rejected: int = 0
    answers: int = 0
    reviewed: int = 0
    reviewed_right: int = 0

    @property
    def reviewed_precision(self) -> float | None:
        """The precision of the answers customers got, from the reviews."""
        return self.reviewed_right / self.reviewed if self.reviewed else None

    @property
    def rejection_rate(self) -> float | None:
        """Share of the bot's answers known to be wrong: at least its error rate."""
        return min(1.0, self.rejected / self.answers) if self.answers else None


def live_estimate(
    outcomes: Sequence[Outcome],
    *,
    threshold: float,
    target: float,
    min_count: int,
    answered: Sequence[Answered] = (),
) -> LiveEstimate:
    """The live precision at ``threshold`` (the calibrated one), and the threshold that meets
    ``target``. ``outcomes`` come newest first (an agent's second tag of one escalation wins);
    ``answered`` holds the bot's answers, each with what became known of it.

    Only some decisions are labelled, and not alike: an agent tags every escalation, right or
    wrong, but of the bot's answers only the wrong ones are heard of (a customer says so, an
    agent corrects it); the right ones are never labelled. So the two are read apart:

    * **Lowering** reads the tags. The threshold is the lowest confidence at which the tags
      above it are right often enough; it is only proposed once ``min_count`` tags are in, and
      needs at least a quarter of ``min_count`` above it, so that a handful of lucky points
      cannot lower it. Tags made at or after a judged answer of the same conversation are left
      out (that escalation was picked for the answer, not by doubt); earlier ones stay. When
      the tagged escalations at or above the calibrated threshold clearly miss the target (the
      Wilson 95 % upper bound of their precision is below it), the threshold is never
      lowered, and it is 1.0 (answer nothing) if no confidence qualifies.
    * **Raising** weighs the answers known to be wrong against all answers, each at the
      confidence it was given with. Not every wrong answer is heard of, so the share known to
      be wrong is a lower bound of the error rate: where, over at least ``min_count`` answers
      at or above the threshold, even its Wilson 95 % lower bound is above ``1 - target``,
      answering there clearly misses the target, and the threshold rises to the lowest
      confidence where the share known to be wrong at or above it is at most ``1 - target``
      (1.0 if none). Since some wrong answers go unheard, this catches a bot clearly failing;
      it cannot show that one meets the target.
    * **Reviews** are a random sample of answers, right ones too: where, over at least a
      quarter of ``min_count`` reviewed answers at or above the threshold, even the Wilson 95 %
      upper bound of their precision is below ``target``, the threshold rises to the lowest
      confidence where the reviewed precision above it meets ``target``, and no further than
      the first confidence with fewer than a quarter of ``min_count`` (and fewer than
      ``MIN_REVIEWS``) reviewed answers above it: so few reviews cannot silence the bot, and
      the reviews of its answers there can bring it back.
    """
    wrong = [a for a in answered if a.wrong]
    spoiled = _judged_since(answered, outcomes)
    tagged = [
        o
        for o in _once([o for o in outcomes if o.source in TAG_SOURCES], _question)
        if not _spoiled(o, spoiled)
    ]
    above = [o for o in tagged if o.confidence >= threshold]
    right_above = sum(o.correct for o in above)
    precision = right_above / len(above) if above else None
    proposed: float | None = None
    floor = max(1, min_count // 4)
    confident_fail = len(above) >= floor and wilson_upper(right_above, len(above)) < target
    if len(tagged) >= min_count:
        ranked = sorted(tagged, key=lambda o: -o.confidence)
        right = 0
        for index, outcome in enumerate(ranked, start=1):
            right += outcome.correct
            tied = index < len(ranked) and ranked[index].confidence == outcome.confidence
            if not tied and index >= floor and right / index >= target:
                proposed = outcome.confidence
        if proposed is None and confident_fail:
            proposed = 1.0  # even the confident decisions agents saw were clearly too often wrong
        if proposed is not None and proposed < threshold and confident_fail:
            proposed = None  # never answer more while the confident decisions miss the target
    start = threshold if proposed is None else proposed
    confidences = [a.confidence for a in answered]
    raised = _raised(start, confidences, [a.confidence for a in wrong], target, min_count)
    if raised is not None:
        proposed = raised
    start = threshold if proposed is None else proposed
    reviews = [(a.confidence, not a.wrong) for a in answered if a.review is not None]
    reviewed_raise = _raised_by_reviews(start, reviews, target, max(MIN_REVIEWS, floor))
    if reviewed_raise is not None:
        proposed = max(reviewed_raise, proposed or 0.0)
    reviewed = [right for _, right in reviews]
    judged = sum(a.verdict is not None or a.review is not None for a in answered)
    return LiveEstimate(
        precision,
        len(above),
        len(tagged) + judged,
        proposed,
        len(wrong),
        len(answered),
        len(reviewed),
        sum(reviewed),
    )


def _raised_by_reviews(
    start: float, reviews: Sequence[tuple[float, bool]], target: float, floor: int
) -> float | None:
    """None unless the reviewed answers at or above ``start`` (at least ``floor``) clearly
    miss ``target`` (the Wilson upper bound of their precision is below it); else the lowest
    reviewed confidence above it where the reviewed answers at or above it meet ``target``, or
    where fewer than ``floor`` remain. The threshold never rises past the evidence: above it,
    the bot still answers, and the answers drawn for review there can show it is right again.
    1.0 only when at least ``floor`` answers tied at the top confidence are too often wrong."""

    def above(candidate: float) -> tuple[int, int]:
        there = [right for confidence, right in reviews if confidence >= candidate]
        return len(there), sum(there)

    count, right = above(start)
    if count < floor or wilson_upper(right, count) >= target:
        return None
    for candidate in sorted({c for c, _ in reviews if c > start}):
        count, right = above(candidate)
        if count < floor or right >= target * count:
            return candidate
    return 1.0  # at least ``floor`` answers at the very top confidence, too often wrong


def _raised(
    start: float,
    answered: Sequence[float],
    wrong: Sequence[float],
    target: float,
    min_count: int,
) -> float | None:
    """None while the answers known to be wrong at or above ``start`` do not clearly exceed
    ``1 - target`` of the answers there (the Wilson lower bound, over at least ``min_count``
    answers); else the lowest confidence above it where their share is at most
    ``1 - target``, 1.0 if none."""
    answers, known_wrong = sorted(answered), sorted(wrong)

    def above(candidate: float) -> tuple[int, int]:
        count = len(answers) - bisect.bisect_left(answers, candidate)
        return count, min(count, len(known_wrong) - bisect.bisect_left(known_wrong, candidate))

    count, bad = above(start)
    if count < min_count or wilson_lower(bad, count) <= 1 - target:
        return None
    for candidate in sorted({c for c in answers if c > start}):
        count, bad = above(candidate)
        if bad <= (1 - target) * count:
            return candidate
    return 1.0


def _question(outcome: Outcome) -> str:
    return normalised(outcome.question)


def _judged_since(
    answered: Sequence[Answered], outcomes: Sequence[Outcome]
) -> dict[str, datetime | None]:
    """Per conversation, when its first judged answer was given (None: not known)."""
    judged: dict[str, datetime | None] = {}
    marks = [(a.conversation_id, a.at) for a in answered if a.verdict is not None]
    marks += [
        (o.conversation_id, o.at)
        for o in outcomes
        if o.source not in TAG_SOURCES and o.conversation_id is not None
    ]
    for conversation_id, at in marks:
        known = judged.get(conversation_id, at)
        judged[conversation_id] = None if at is None or known is None else min(at, known)
    return judged


def _spoiled(tag: Outcome, judged: dict[str, datetime | None]) -> bool:
    """A tag on the escalation that follows a judged answer is picked for that answer: not a
    fair sample. A tag from before the conversation's first judged answer is."""
    if tag.conversation_id is None or tag.conversation_id not in judged:
        return False
    since = judged[tag.conversation_id]
    return since is None or tag.at is None or tag.at >= since


def _once(outcomes: Sequence[Outcome], key: Callable[[Outcome], object]) -> list[Outcome]:
    """The first of the outcomes of one conversation that share ``key``; outcomes with no
    conversation are all kept."""
    seen: set[tuple[str, object]] = set()
    kept = []
    for outcome in outcomes:
        if outcome.conversation_id is not None:
            mark = (outcome.conversation_id, key(outcome))
            if mark in seen:
                continue
            seen.add(mark)
        kept.append(outcome)
    return kept


def wilson_upper(right: int, count: int, z: float = 1.645) -> float:
    """The one-sided 95 % Wilson upper bound of a share ``right / count``."""
    centre, spread = _wilson(right, count, z)
    return centre + spread


def wilson_lower(right: int, count: int, z: float = 1.645) -> float:
    """The one-sided 95 % Wilson lower bound of a share ``right / count``."""
    centre, spread = _wilson(right, count, z)
    return centre - spread


def _wilson(right: int, count: int, z: float) -> tuple[float, float]:
    share = right / count
    scale = 1 + z * z / count
    centre = share + z * z / (2 * count)
    spread = z * math.sqrt(share * (1 - share) / count + z * z / (4 * count * count))
    return centre / scale, spread / scale


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

"""The answer-or-escalate decision: signals and retrieval in, a ``Decision`` out."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.conversation_frustration import ConversationFrustration, conversation_features
from bot.learning import NotedQuestion
from bot.model import UNSURE, Decision, EscalationReason, Reading, Retrieval, Signals
from bot.needs import asks_something
from bot.ports import Retriever, SignalReader, TrafficObserver
from bot.signals import (
    CARE_TOPICS,
    DEFAULT_SENSITIVE_TOPICS,
    compile_topics,
    over_conversation,
    read_signals,
    run_of_negative_turns,
    settled,
)

EARLIER_TURNS = 5  # earlier customer turns read for the conversation's frustration

AMBIGUITY_FLOOR = 0.5  # both articles must be real candidates before a tie counts
# More than this share of the question's words missing from the top article's text: the
# article is on the topic but does not speak to what was asked (``knowledge.coverage``).
# Chosen on the eighteen read live-traffic sets as the largest cut-off whose pooled precision
# keeps a margin of 0.03 over 0.90 (0.932 at 0.4; 0.914 at 0.45, 0.901 at 0.5): each folder written
# after a cut-off was chosen has read lower than the ones it was chosen on (README).
MAX_UNCOVERED = 0.4


@dataclass(frozen=True)
class PolicyConfig:
    """Escalation settings the policy needs.

    Attributes:
        ambiguity_margin: Similarity gap under which the top two articles tie.
        frustration_threshold: Frustration (0..1) at which the bot escalates.
        topics: Compiled sensitive-topic patterns by name.
        learned_topics: Topics the reader's heads or example phrases may flag.
        conversation_frustration: The model that weighs frustration over the conversation
            when the heads read it (None: the rules in ``over_conversation``).
    """

    ambiguity_margin: float = 0.03
    frustration_threshold: float = 0.5
    topics: Mapping[str, re.Pattern[str]] = field(
        default_factory=lambda: compile_topics(DEFAULT_SENSITIVE_TOPICS, DEFAULT_SENSITIVE_TOPICS)
    )
    learned_topics: frozenset[str] = frozenset(DEFAULT_SENSITIVE_TOPICS)
    max_uncovered: float = MAX_UNCOVERED
    conversation_frustration: ConversationFrustration | None = None


def decide(
    retrieval: Retrieval, signals: Signals, config: PolicyConfig, threshold: float | None = None
) -> Decision:
    """Answer with the best article when confident and nothing calls for a person.

    Args:
        retrieval: What the knowledge base found.
        signals: What the customer's words say.
        config: The escalation settings.
        threshold: Overrides ``retrieval.threshold`` (used by the evaluation sweep).
    """
    reasons: list[EscalationReason] = []
    if signals.human_request:
        reasons.append(EscalationReason.HUMAN_REQUEST)
    if signals.complaint:
        reasons.append(EscalationReason.COMPLAINT)
    if signals.frustration >= config.frustration_threshold:
        reasons.append(EscalationReason.FRUSTRATION)
    if signals.sensitive_topics:
        reasons.append(EscalationReason.SENSITIVE)
    needed = retrieval.threshold if threshold is None else threshold
    if retrieval.best is None or retrieval.confidence < needed:
        reasons.append(_why_unsure(retrieval, config))
    elif (
        retrieval.uncovered is not None
        and not retrieval.learned
        and retrieval.uncovered > config.max_uncovered
    ):
        # Sure of the topic, but the article does not speak to what was asked: out of scope,
        # however close a second article is.
        reasons.append(EscalationReason.NOT_COVERED)
    if reasons:
        return Decision("escalate", retrieval, signals, tuple(reasons))
    return Decision("answer", retrieval, signals, (), retrieval.best)


def _why_unsure(retrieval: Retrieval, config: PolicyConfig) -> EscalationReason:
    matches = retrieval.matches
    if (
        len(matches) >= 2
        and matches[1].similarity >= AMBIGUITY_FLOOR
        and abs(matches[0].similarity - matches[1].similarity) < config.ambiguity_margin
    ):
        return EscalationReason.AMBIGUOUS
    return EscalationReason.LOW_CONFIDENCE


def turn_signals(
    turns: Sequence[str], config: PolicyConfig, readings: Sequence[Reading] = ()
) -> list[Signals]:
    """Each turn's own signals, read alone (``readings``: the heads' reading of each turn, if
    a reader is configured)."""
    padded = list(readings) if len(readings) == len(turns) else [Reading()] * len(turns)
    return [
        read_signals(turn, config.topics, reading, config.learned_topics)
        for turn, reading in zip(turns, padded, strict=True)
    ]


def conversation_topics(
    texts: Sequence[str], config: PolicyConfig, latest: Sequence[str] = ()
) -> tuple[str, ...]:
    """The sensitive topics of a conversation for the agent's card: those the topic patterns
    find in the customer's messages, oldest first, then ``latest`` (the latest decision's,
    which the heads and example phrases may add). A topic told once stays on the card. The
    topics of a customer's life (``CARE_TOPICS``: bereavement, a customer at risk) come first,
    whatever order the settings list the topics in."""
    found = [
        name for text in texts for name, pattern in config.topics.items() if pattern.search(text)
    ]
    topics = dict.fromkeys([*found, *latest])
    return tuple(sorted(topics, key=lambda name: name not in CARE_TOPICS))


def conversation_signals(
    text: str,
    earlier: Sequence[str],
    config: PolicyConfig,
    readings: Sequence[Reading] = (),
) -> Signals:
    """Signals of the latest message, with frustration read over the earlier turns: by the
    conversation model when the heads read the turns (never under what a run of mildly
    negative turns adds up to), else by the rules (``over_conversation``). A latest message
    that settles the matter calmly (``settled``: "ah, that explains it", "it's working now,
    thank you", "not annoyed at all, just checking", "fair enough, I'll take the later slot")
    is read on its own.

    Args:
        text: The latest customer message.
        earlier: Earlier customer messages, oldest first.
        config: The escalation settings.
        readings: The heads' readings of ``[*earlier[-EARLIER_TURNS:], text]`` if a reader is
            configured (empty: patterns only).
    """
    turns = [*earlier[-EARLIER_TURNS:], text]
    signals = turn_signals(turns, config, readings)
    latest = signals[-1]
    levels = [s.frustration for s in signals]
    reading = readings[-1] if len(readings) == len(turns) else None
    if len(turns) > 1 and settled(text, latest, reading):
        # Solved, thanked calmly, "not annoyed", "fair enough": earlier turns do not carry.
        return replace(latest, trend=tuple(levels))
    model = config.conversation_frustration
    if (
        model is None
        or len(turns) < 2
        or reading is None
        or "frustration" not in reading.levels  # the heads did not read it
    ):
        echo = reading.echo if reading is not None else 0.0
        return over_conversation(latest, turns, signals[:-1], echo)
    learned = model.level(conversation_features(turns, signals, reading))
    return replace(
        latest,
        frustration=max(learned, run_of_negative_turns(turns, levels)),
        trend=tuple(levels),
    )


class Responder:
    """Decide what to do with a customer's message; the one path live traffic and eval share.

    Args:
        retriever: The knowledge-base port.
        config: The escalation settings.
        reader: The signal heads over the query embedding (optional: patterns only without).
        traffic: Told, through ``note``, the confidence of each customer question decided on
            confidence alone (optional).
    """

    def __init__(
        self,
        *,
        retriever: Retriever,
        config: PolicyConfig,
        reader: SignalReader | None = None,
        traffic: TrafficObserver | None = None,
    ) -> None:
        self.retriever = retriever
        self.config = config
        self.reader = reader
        self.traffic = traffic

    def respond(self, text: str, earlier: Sequence[str] = ()) -> Decision:
        """Search, read signals over the conversation, and decide."""
        retrieval = self.retriever.search(text)
        turns = [*earlier[-EARLIER_TURNS:], text]
        readings = self.reader.read(turns) if self.reader is not None else ()
        signals = conversation_signals(text, earlier, self.config, readings)
        decision = decide(retrieval, signals, self.config)
        if signals.human_request and not asks_something(text):
            # A bare "can I talk to a person": nothing was asked that the bot was unsure of.
            kept = tuple(r for r in decision.reasons if r not in UNSURE)
            decision = replace(decision, reasons=kept)
        return decision

    def noted(self, decision: Decision, text: str) -> NotedQuestion | None:
        """The question to note for the traffic window, if it is one: decided on confidence
        alone, and not a greeting, thanks, "that didn't help" or a bare order number, which
        would all read as out of scope. Not under the learned confidence, whose scale is not
        calibration's (``Retrieval.learned``): the traffic's share is read on calibration's."""
        confidence = decision.retrieval.confidence
        if self.traffic is None or not math.isfinite(confidence) or not on_confidence(decision):
            return None
        if decision.retrieval.learned:
            return None
        if not asks_something(text):
            return None
        return NotedQuestion(confidence, self.traffic.calibrated_threshold)

    def note(self, decision: Decision, text: str) -> None:
        """Tell the traffic observer about a customer's question the bot decided (once per
        question, in the bot's hands: not a message to an agent, a retry or a preview)."""
        self.observe(self.noted(decision, text))

    def observe(self, noted: NotedQuestion | None) -> None:
        """Tell the traffic observer about a question ``noted`` gave (nothing for None)."""
        if noted is not None and self.traffic is not None:
            self.traffic.observe(noted.confidence)


def on_confidence(decision: Decision) -> bool:
    """Decided on confidence alone: answered, or escalated only because the bot was unsure
    (not by a signal such as a request for a person)."""
    return decision.action == "answer" or set(decision.reasons) <= UNSURE


def failure_loop(
    decision: Decision,
    *,
    not_helpful: bool,
    after_answer: bool,
    last_article: str | None,
    failed_turns: int,
    max_failed_turns: int,
) -> tuple[Decision, int]:
    """Count answers that did not help, and escalate a loop of them.

    A turn failed when it follows a bot answer and the customer says it did not help, or asks
    again what the bot already answered. The bot never repeats the answer the customer just
    rejected, and escalates once ``max_failed_turns`` turns failed. When the customer says an
    answer did not help and the bot escalates anyway, that is a reason too.

    Returns:
        The (possibly escalated) decision and the new failed-turn count.
    """
    best = decision.retrieval.best
    repeated = after_answer and best is not None and best.article_id == last_article
    if not (after_answer and (not_helpful or repeated)):
        return decision, 0 if decision.action == "answer" else failed_turns
    failed = failed_turns + 1
    same_again = decision.answer is not None and decision.answer.article_id == last_article
    looping = failed >= max_failed_turns or (not_helpful and same_again)
    if not looping and (decision.action == "answer" or not not_helpful):
        return decision, failed
    reasons = (*decision.reasons, EscalationReason.REPEATED_FAILURE)
    return replace(decision, action="escalate", reasons=reasons, answer=None), failed

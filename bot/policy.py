"""The answer-or-escalate decision: signals and retrieval in, a ``Decision`` out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.model import Decision, EscalationReason, Retrieval, Signals
from bot.ports import Retriever
from bot.signals import DEFAULT_SENSITIVE_TOPICS, compile_topics, read_signals

AMBIGUITY_FLOOR = 0.5  # both articles must be real candidates before a tie counts


@dataclass(frozen=True)
class PolicyConfig:
    """Escalation settings the policy needs.

    Attributes:
        ambiguity_margin: Similarity gap under which the top two articles tie.
        frustration_threshold: Frustration (0..1) at which the bot escalates.
        topics: Compiled sensitive-topic patterns by name.
    """

    ambiguity_margin: float = 0.03
    frustration_threshold: float = 0.5
    topics: Mapping[str, re.Pattern[str]] = field(
        default_factory=lambda: compile_topics(DEFAULT_SENSITIVE_TOPICS, DEFAULT_SENSITIVE_TOPICS)
    )


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


def conversation_signals(text: str, earlier: Sequence[str], config: PolicyConfig) -> Signals:
    """Signals of the latest message, with frustration carried over from earlier turns."""
    latest = read_signals(text, config.topics)
    if not earlier:
        return latest
    previous = [read_signals(turn, config.topics) for turn in earlier[-5:]]
    carried = max(p.frustration for p in previous)
    rising = latest.frustration > 0 and latest.frustration >= carried
    frustration = min(1.0, latest.frustration + (0.5 * carried if rising else 0.25 * carried))
    return replace(latest, frustration=frustration)


class Responder:
    """Decide what to do with a customer's message; the one path live traffic and eval share.

    Args:
        retriever: The knowledge-base port.
        config: The escalation settings.
    """

    def __init__(self, *, retriever: Retriever, config: PolicyConfig) -> None:
        self.retriever = retriever
        self.config = config

    def respond(self, text: str, earlier: Sequence[str] = ()) -> Decision:
        """Search, read signals, and decide."""
        retrieval = self.retriever.search(text)
        return decide(retrieval, conversation_signals(text, earlier, self.config), self.config)


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

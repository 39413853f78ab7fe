"""The card's own readings of the transcript."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.card import tagged
from bot.conversation import Kind, Message, Summary
from bot.facts import topic_facts, topics_of

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_the_card_preselects_the_latest_tag_read_back_from_its_note() -> None:
    choices = [("returns", "Returns"), ("hours", "Opening hours")]
    notes = [
        Message(1, "c1", Kind.NOTE, "Tagged: Returns (waiting for an admin)", NOW),
        Message(2, "c1", Kind.NOTE, "Tagged: Opening hours (applied)", NOW),
    ]
    assert tagged(notes, choices) == "hours"
    assert tagged(notes[:1], choices) == "returns"
    gap = Message(3, "c1", Kind.NOTE, "Tagged: not in the knowledge base (applied)", NOW)
    assert tagged([*notes, gap], choices) == ""
    assert tagged([Message(4, "c1", Kind.NOTE, "Tagged by hand", NOW)], choices) is None
    assert tagged([Message(5, "c1", Kind.NOTE, "Tagged: Gone (applied)", NOW)], choices) is None


def test_a_summary_keeps_its_topics_and_one_stored_before_them_reads_them_from_its_facts() -> None:
    facts = (*topic_facts(["personal_data", "crisis", "crisis"]), "Order LK-12345")
    assert facts == ("Sensitive: personal data", "Sensitive: crisis", "Order LK-12345")
    summary = Summary("refund", "a refund", "neutral", "steady", facts, topics=("personal_data",))
    assert Summary.from_json(summary.to_json()) == summary
    stored_before = {k: v for k, v in summary.to_json().items() if k != "topics"}
    assert Summary.from_json(stored_before).topics == ("personal_data", "crisis")
    assert topics_of(facts) == ("personal_data", "crisis")


def test_the_queue_reads_a_customer_at_risk_from_the_summarys_topics() -> None:
    """Not from the facts' display text: an LLM may word or drop the facts."""
    from bot.conversation import Escalation, EscalationStatus
    from bot.queue import AT_RISK_WEIGHT, need

    def escalation(summary: Summary) -> Escalation:
        return Escalation(
            "e1", "c1", EscalationStatus.OPEN, ("low_confidence",), summary, (), "", 1, NOW
        )

    plain = Summary("refund", "a refund", "neutral", "steady")
    at_risk = replace(plain, topics=("crisis",))
    worded = replace(plain, key_facts=("Sensitive: crisis",))
    assert need(escalation(at_risk)) == round(need(escalation(plain)) + AT_RISK_WEIGHT, 3)
    assert need(escalation(worded)) == need(escalation(plain))

"""The question a tag teaches: what the customer asked, not greetings or "that didn't help"."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.conversation import Kind, Message
from integrations.learning import escalated_question


def _history(*turns: tuple[Kind, str]) -> list[Message]:
    now = datetime.now(UTC)
    return [Message(i, "c1", kind, text, now) for i, (kind, text) in enumerate(turns, start=1)]


def test_greetings_and_later_messages_are_left_out() -> None:
    history = _history(
        (Kind.CUSTOMER, "Hi there"),
        (Kind.CUSTOMER, "can I pay for the wardrobe over a few months?"),
        (Kind.ESCALATED, "I'm passing you to a person."),
        (Kind.CUSTOMER, "this is taking ages!!!"),
    )
    assert escalated_question(history) == "can I pay for the wardrobe over a few months?"


def test_a_rejected_answer_teaches_the_question_it_answered() -> None:
    history = _history(
        (Kind.CUSTOMER, "how long do refunds take for a sofa"),
        (Kind.ANSWER, "Refunds take 5 days."),
        (Kind.CUSTOMER, "that didn't answer my question"),
        (Kind.ESCALATED, "I'm passing you to a person."),
    )
    assert escalated_question(history) == "how long do refunds take for a sofa"

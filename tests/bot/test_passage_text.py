"""The answer text an article gives: its best passage, after its short opening when the best
one is a later section."""

from __future__ import annotations

from bot.drafting import LEAD_CHARS, passage_text
from bot.model import ArticleMatch

LEAD = "Cancel an order\nOrders can be cancelled free of charge until they are **dispatched**."
LATER = (
    "Cancel an order › Already dispatched\nOnce it has left the warehouse it cannot be cancelled."
)


def match(*passages: str, lead: str | None = LEAD) -> ArticleMatch:
    return ArticleMatch("order-cancel", "Cancel an order", None, "kb", 0.8, passages, lead=lead)


def test_a_later_section_comes_after_the_opening() -> None:
    assert passage_text(match(LATER, LEAD)) == (
        "Orders can be cancelled free of charge until they are dispatched.\n\n"
        "Already dispatched: Once it has left the warehouse it cannot be cancelled."
    )


def test_the_opening_alone_when_it_matched_best() -> None:
    assert passage_text(match(LEAD, LATER)) == (
        "Orders can be cancelled free of charge until they are dispatched."
    )


def test_the_later_section_alone_without_a_short_single_opening() -> None:
    alone = "Once it has left the warehouse it cannot be cancelled."
    assert passage_text(match(LATER, lead=None)) == alone
    long_lead = "Cancel an order\n" + "word " * (LEAD_CHARS // 4)
    assert passage_text(match(LATER, lead=long_lead)) == alone


def test_an_article_without_passages_reads_as_its_title() -> None:
    assert passage_text(match(lead=None)) == "Cancel an order"

"""Summaries, card articles and drafts built around the customer's goal, not their latest
words: the extractive drafter on knowledge matches built by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.conversation import Kind, Message, Source
from bot.drafting import articles_for, context_of
from bot.extractive import (
    QUOTE_FLOOR,
    THROUGH_TO_A_PERSON,
    ExtractiveDrafter,
    only_asks_for_a_person,
)
from bot.model import ArticleMatch, EscalationReason, Retrieval
from bot.needs import needs_to_look_up

C, A, E = Kind.CUSTOMER, Kind.ANSWER, Kind.ESCALATED
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def article(article_id: str, title: str, passage: str, similarity: float) -> ArticleMatch:
    return ArticleMatch(article_id, title, None, "kb", similarity, (passage,))


RETURNS = article("returns", "Returning an item", "Start a return under Orders.", 0.62)
HOURS = article("hours", "Opening hours", "We are open 9 to 5 on weekdays.", 0.71)
ACCOUNT = article("account", "Creating an account", "Sign up with your email.", 0.4)
KLARNA = article("klarna", "Paying in instalments", "Pay in three with Klarna.", 0.66)
WARRANTY = article("warranty", "Guarantee", "Everything has a two-year guarantee.", 0.5)
DELIVERY = article("delivery", "Delivery times", "Parcels arrive in 3 to 5 days.", 0.45)


def found(query: str, *matches: ArticleMatch, confidence: float = 0.8) -> Retrieval:
    return Retrieval(query, matches, confidence, 0.6, 0.1)


def history(*turns: tuple[Kind, str] | tuple[Kind, str, str]) -> list[Message]:
    return [
        Message(i, "c1", turn[0], turn[1], NOW, (Source(turn[2]),) if len(turn) > 2 else ())
        for i, turn in enumerate(turns, start=1)
    ]


LAMP = history(
    (C, "Hi!"),
    (C, "I'd like to return the brass desk lamp from order 20417, it buzzes when switched on."),
    (E, "A person will reply shortly."),
    (C, "what time do you close on Fridays?"),
    (C, "This is ridiculous!!! I've asked TWICE"),
    (C, "is anyone there?"),
)
LATEST = found("is anyone there?", HOURS, ACCOUNT, confidence=0.2)


async def test_the_card_follows_the_goal_not_the_latest_words() -> None:
    wanted = needs_to_look_up(LAMP)
    assert wanted[0].startswith("I'd like to return the brass desk lamp")
    lookups = [
        (wanted[0], found(wanted[0], RETURNS, WARRANTY, confidence=0.3)),
        (wanted[1], found(wanted[1], HOURS, DELIVERY, confidence=0.9)),
    ]
    context = context_of(LAMP, LATEST, (EscalationReason.FRUSTRATION,), lookups=lookups)
    drafter = ExtractiveDrafter()
    summary = await drafter.summarise(context)
    assert summary.intent == "Returning an item"
    assert "brass desk lamp" in summary.goal and "buzzes" in summary.goal
    assert [a.title for a in articles_for(context)] == [
        "Returning an item",
        "Opening hours",
        "Guarantee",
    ]
    draft = await drafter.draft(context)
    assert draft.startswith("Hi, I'm sorry"), "the customer vented"
    assert draft.index("Start a return") < draft.index("open 9 to 5"), "the goal first"
    assert "20417" in draft, "the customer's order number"
    assert "anyone there" not in draft


@pytest.mark.parametrize(
    "rejection", ["that's not what I asked", "doesnt really help, I sent it back a month ago"]
)
async def test_a_rejected_article_is_not_quoted_again(rejection: str) -> None:
    turns = history(
        (C, "How do I get my money back for the rowing machine?"),
        (A, "Start a return under Orders.", "Returning an item"),
        (C, rejection),
    )
    wanted = needs_to_look_up(turns)
    lookups = [(wanted[0], found(wanted[0], RETURNS, WARRANTY))]
    context = context_of(turns, found("x", RETURNS), lookups=lookups)
    assert context.rejected == ("Returning an item",)
    draft = await ExtractiveDrafter().draft(context)
    assert "Start a return" not in draft
    assert "two-year guarantee" in draft
    assert "sorry" in draft, "an answer did not help"


async def test_an_answer_passed_over_for_a_person_is_not_offered_again() -> None:
    """Answered, then "I want to talk to a real person": the question is still what they wait
    on, but the draft does not repeat the answer they passed over. A request for a person
    that asks something new rejects nothing."""
    turns = history(
        (C, "can I pay in instalments?"),
        (A, "Pay in three with Klarna.", "Paying in instalments"),
        (C, "I want to talk to a real person please"),
    )
    wanted = needs_to_look_up(turns)
    assert wanted[0] == "can I pay in instalments?"
    lookups = [(wanted[0], found(wanted[0], KLARNA, ACCOUNT))]
    context = context_of(turns, found("x", HOURS, confidence=0.1), lookups=lookups)
    assert context.passed_over == ("Paying in instalments",) and context.rejected == ()
    draft = await ExtractiveDrafter().draft(context)
    assert "Pay in three with Klarna" not in draft
    assert "Sign up with your email" not in draft, "nor the runner-up in its place"
    assert "looking into your question" in draft and "instalments" in draft

    asking = history(
        (C, "can I pay in instalments?"),
        (A, "Pay in three with Klarna.", "Paying in instalments"),
        (C, "can a person check why my order 58213 has not shipped yet?"),
    )
    assert context_of(asking, found("x", HOURS)).passed_over == ()


async def test_a_need_nothing_answers_is_named_as_looked_into() -> None:
    said = "I want to make a formal complaint. The courier left the parcel in the rain and "
    said += "the sofa cushions are soaked."
    turns = history((C, said), (E, "A person will reply shortly."), (C, "hello???"))
    wanted = needs_to_look_up(turns)
    lookups = [(wanted[0], found(wanted[0], RETURNS, confidence=0.1))]
    context = context_of(turns, found("hello???", HOURS), lookups=lookups)
    drafter = ExtractiveDrafter()
    draft = await drafter.draft(context)
    assert "Start a return" not in draft, "a complaint is not answered with a loose match"
    assert "noted your complaint" in draft and "cushions are soaked" in draft
    assert draft.startswith("Hi, I'm sorry")
    summary = await drafter.summarise(context)
    assert summary.goal.endswith("cushions are soaked.")
    assert summary.intent == "Complaint", "not the loosely matching returns article"


async def test_two_needs_are_answered_each_introduced_and_calm_means_no_apology() -> None:
    turns = history(
        (C, "Can I pay for the walnut bookcase in instalments? And do you have a guarantee?"),
        (E, "A person will reply shortly."),
        (C, "thanks"),
    )
    wanted = needs_to_look_up(turns)
    lookups = [
        (wanted[0], found(wanted[0], KLARNA, ACCOUNT)),
        (wanted[1], found(wanted[1], WARRANTY, DELIVERY)),
    ]
    context = context_of(turns, found("thanks", HOURS), lookups=lookups)
    draft = await ExtractiveDrafter().draft(context)
    assert draft.startswith("Hi, thanks for your patience.")
    assert 'About "Can I pay for the walnut bookcase in instalments?": Pay in three' in draft
    assert 'About "do you have a guarantee?": Everything has a two-year guarantee' in draft
    assert "open 9 to 5" not in draft


async def test_without_lookups_the_latest_search_still_drafts() -> None:
    turns = history((C, "Do you deliver on Sundays?"))
    context = context_of(turns, found("Do you deliver on Sundays?", DELIVERY, HOURS))
    drafter = ExtractiveDrafter()
    assert (await drafter.summarise(context)).intent == "Delivery times"
    assert "3 to 5 days" in await drafter.draft(context)
    again = context_of(turns, found("x", DELIVERY, HOURS), variant=1)
    assert "open 9 to 5" in await drafter.draft(again), "a regenerate picks the next article"


async def drafted(
    said: str, match: ArticleMatch, reason: EscalationReason, confidence: float
) -> str:
    """The draft for one message escalated for ``reason``, its goal matching ``match``."""
    turns = history((C, said))
    wanted = needs_to_look_up(turns)
    lookups = [(wanted[0], found(wanted[0], match, confidence=confidence))]
    return await ExtractiveDrafter().draft(
        context_of(turns, found("x", match), (reason,), lookups=lookups)
    )


async def test_a_bare_request_for_a_person_is_met_by_a_person_not_an_article() -> None:
    asked = "would it be possible to speak to someone"
    draft = await drafted(asked, HOURS, EscalationReason.HUMAN_REQUEST, 0.5)
    assert "open 9 to 5" not in draft
    assert THROUGH_TO_A_PERSON in draft and "get back to you" not in draft
    assert only_asks_for_a_person("Can I speak to a real person please?")
    assert not only_asks_for_a_person("Can a person look at LK-483920 please?"), "a reference"
    assert not only_asks_for_a_person("can a person check why my order has not shipped?")


async def test_a_sensitive_case_or_a_loose_match_is_looked_into_not_answered() -> None:
    said = "there are 3 payments on my card statement that I never made"
    draft = await drafted(said, KLARNA, EscalationReason.SENSITIVE, 0.5)
    assert "Klarna" not in draft and 'looking into this ("there are 3 payments' in draft
    # The same need, escalated for low confidence only, gets the article to approve or edit...
    unsure = await drafted(said, KLARNA, EscalationReason.LOW_CONFIDENCE, 0.5)
    assert "Pay in three with Klarna" in unsure
    # ...unless the match is too loose to quote at all.
    loose = await drafted(said, KLARNA, EscalationReason.LOW_CONFIDENCE, QUOTE_FLOOR - 0.1)
    assert "Klarna" not in loose

"""The customer's open needs: what is asked, what is answered, what is only talk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.card import resolve_caution
from bot.conversation import Kind, Message, Source
from bot.needs import (
    MAX_LOOKUPS,
    goal,
    is_need,
    needs_to_look_up,
    open_needs,
    promises_follow_up,
    question_of,
    waits_on_latest_answer,
)

C, A, E, G = Kind.CUSTOMER, Kind.ANSWER, Kind.ESCALATED, Kind.AGENT_MESSAGE
J = Kind.AGENT_JOINED


def history(*turns: tuple[Kind, str]) -> list[Message]:
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    return [
        Message(i, "c1", kind, text, now, (Source("Some article"),) if kind is A else ())
        for i, (kind, text) in enumerate(turns, start=1)
    ]


def texts(turns: list[Message]) -> list[str]:
    return [n.text for n in open_needs(turns)]


@pytest.mark.parametrize(
    "sentence",
    [
        "hi",
        "hello there",
        "Thanks!",
        "ok",
        "Good morning, how are you?",
        "This is ridiculous!!!",
        "I've asked TWICE",
        "Why is this so hard???",
        "can I speak to a human",
        "that didn't help",
        "Is anyone there?",
        "Nice weather we're having, isn't it?",
    ],
)
def test_greetings_venting_rejections_and_asks_for_a_person_are_not_needs(sentence: str) -> None:
    assert not is_need(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Can I return the desk lamp?",
        "I'd like to cancel my subscription box",
        "My kettle stopped working after two days.",
        "how long do refunds take for a mattress",
        "Order 99812 still hasn't arrived.",
        "Please reset my password",
        "I want to make a formal complaint.",
    ],
)
def test_questions_requests_problems_and_facts_are_needs(sentence: str) -> None:
    assert is_need(sentence)


def test_a_message_is_read_sentence_by_sentence() -> None:
    turns = history((C, "Hi there! This is so annoying!!! Can I swap the blue rug for a red one?"))
    assert texts(turns) == ["Can I swap the blue rug for a red one?"]


def test_an_answer_closes_what_was_asked_since_the_previous_reply() -> None:
    turns = history(
        (C, "Do you deliver to Guernsey?"),
        (A, "We deliver to the Channel Islands."),
        (C, "How do I track parcel 556677?"),
    )
    assert texts(turns) == ["How do I track parcel 556677?"]


def test_a_rejection_right_after_an_answer_reopens_its_need() -> None:
    turns = history(
        (C, "how long do refunds take for a mattress"),
        (A, "Refunds take 5 days."),
        (C, "that didn't answer my question"),
    )
    assert texts(turns) == ["how long do refunds take for a mattress"]
    later = history(
        (C, "how long do refunds take for a mattress"),
        (A, "Refunds take 5 days."),
        (C, "Where can I buy a gift card?"),
        (C, "that didn't help"),
    )
    assert texts(later) == ["Where can I buy a gift card?"], "only right after the answer"


def test_an_agent_message_closes_everything_and_a_notice_closes_nothing() -> None:
    asked = (
        (C, "My bike helmet arrived cracked."),
        (E, "A person will reply shortly."),
        (C, "Also, can I pay with PayPal?"),
    )
    assert texts(history(*asked)) == [
        "My bike helmet arrived cracked.",
        "can I pay with PayPal?",
    ]
    assert texts(history(*asked, (G, "Sorry about the helmet; PayPal is fine."))) == []


def test_the_goal_is_the_earliest_open_need_and_talk_never_replaces_it() -> None:
    turns = history(
        (C, "hello"),
        (C, "I'd like to return the ceramic lamp from order 31415, it's the wrong colour."),
        (E, "A person will reply shortly."),
        (C, "are you still there?"),
        (C, "This is ridiculous!!! I've asked TWICE"),
        (C, "lol ok"),
    )
    assert goal(turns).startswith("I'd like to return the ceramic lamp from order 31415")
    assert needs_to_look_up(turns)[0] == goal(turns)


def test_the_goal_keeps_the_specifics_of_a_complaint() -> None:
    said = "I want to make a formal complaint. The parcel was left in the rain and the sofa "
    said += "cushions are soaked."
    turns = history((C, said), (E, "A person will reply shortly."), (C, "Hello???"))
    found = goal(turns)
    assert "formal complaint" in found and "cushions are soaked" in found
    split = history(
        (C, "I wish to lodge a complaint."),
        (C, "The courier threw my new monitor over the fence and it's cracked."),
    )
    assert "complaint" in goal(split) and "monitor" in goal(split)


def test_the_goal_falls_back_to_the_latest_need_then_to_what_was_said() -> None:
    answered = history(
        (C, "What sizes does the hiking boot come in?"),
        (A, "Sizes 36 to 47."),
        (C, "can I talk to a real person please"),
    )
    assert goal(answered) == "What sizes does the hiking boot come in?"
    assert question_of(answered) == "What sizes does the hiking boot come in?"
    assert goal(history((C, "hi"))) == "hi"
    assert needs_to_look_up([]) == ()


def test_look_ups_are_the_goal_then_other_open_needs_at_most_a_few() -> None:
    turns = history(
        (C, "Can I change the size of order 80211? Do you ship to Norway?"),
        (C, "Is there a student discount? Where are your stores? Do you sell prams?"),
    )
    wanted = needs_to_look_up(turns)
    assert len(wanted) == MAX_LOOKUPS
    assert wanted[0].startswith("Can I change the size") and "Norway" in wanted[1]


def test_the_learned_question_leaves_out_greetings_and_venting() -> None:
    turns = history(
        (C, "hey"),
        (C, "this is absurd, WHY IS NOBODY ANSWERING!!!"),
        (C, "Can the wardrobe be delivered on a Saturday?"),
        (E, "A person will reply shortly."),
    )
    assert question_of(turns) == "Can the wardrobe be delivered on a Saturday?"


def test_an_answer_while_waiting_closes_only_what_was_asked_after_the_notice() -> None:
    turns = history(
        (C, "I'd like to return the lamp from my last order, can a person help?"),
        (E, "I'm passing you to a person from our team."),
        (C, "What time does your phone line open tomorrow?"),
        (A, "Our phone line opens at 8am."),
        (Kind.WAITING, "A person from our team will still reply about your earlier question."),
    )
    still_open = texts(turns)
    assert len(still_open) == 1 and "return the lamp" in still_open[0]
    assert "lamp" in goal(turns)


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        ([(C, "How long does delivery take?"), (A, "3 to 5 days."), (C, "that didn't help")], True),
        ([(C, "How long does delivery take?"), (A, "3 to 5 days."), (C, "a person please")], True),
        (
            [(C, "How long does delivery take?"), (A, "3 to 5 days."), (C, "Can I pay later?")],
            False,
        ),
        ([(C, "How long does delivery take?"), (A, "3 to 5 days."), (G, "Anything else?")], False),
        ([(C, "How long does delivery take?")], False),
    ],
)
def test_whether_the_customer_waits_on_the_latest_answer(
    turns: list[tuple[Kind, str]], expected: bool
) -> None:
    """An agent who tags another article corrects the bot's answer only if the customer still
    waits on what that answer was to."""
    assert waits_on_latest_answer(history(*turns)) is expected


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        ([(C, "close pro acount")], "close pro acount"),
        ([(C, "hi"), (C, "need help buying 2 of ur lamps")], "need help buying 2 of ur lamps"),
        ([(C, "hello"), (C, "a person please")], ""),
        ([(C, "this is ridiculous!!!")], ""),
        ([(C, "opening times"), (A, "9 to 6."), (C, "a person please")], ""),
    ],
)
def test_a_terse_question_is_still_learned(turns: list[tuple[Kind, str]], expected: str) -> None:
    """No sentence reads as a need, yet the customer asked something: an agent's tag teaches
    their words; greetings, a bare request for a person and venting still teach nothing."""
    assert question_of(history(*turns, (E, "A person will reply shortly."))) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "I'll check with the warehouse and get back to you this afternoon.",
        "We will email you the returns label tomorrow.",
        "Thanks for bearing with me. Let me look into the charge.",
        "i'm going to ring the courier now and come back to you",
        "I will check with the warehouse and get back to you. Sorry for the trouble.",
        "Our billing team will email you within 48 hours.",
        "They'll be in touch by Friday.",
        "One moment while I check.",
        "I'll keep you posted.",
    ],
)
def test_an_agent_promising_to_come_back(reply: str) -> None:
    assert promises_follow_up(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "Your refund went out yesterday; it shows in 3 to 5 days.",
        "Let me know if there's anything else.",
        "I've checked and it was delivered to your neighbour at 14.",
        "You can call us on 0800 123 456 any time.",
        "Let me check that for you. Your order shipped yesterday and arrives Friday.",
        "If it hasn't arrived by Friday, let me know and I'll raise a claim.",
    ],
)
def test_an_answer_or_an_invitation_is_no_promise(reply: str) -> None:
    assert not promises_follow_up(reply)


@pytest.mark.parametrize(
    ("turns", "caution"),
    [
        ([(C, "Where is order LK-1234? It was due Monday."), (E, "A person will reply.")], "due"),
        ([(C, "Where is order LK-1234?"), (G, "It left the warehouse today.")], ""),
        ([(C, "Where is order LK-1234?"), (G, "It arrives tomorrow."), (C, "great, thanks!")], ""),
        (
            [(C, "Where is order LK-1234?"), (G, "It's delayed, sorry."), (C, "Can I cancel?")],
            "Can I cancel?",
        ),
        (
            [(C, "Where is LK-1234?"), (G, "I'll check with the courier and get back to you.")],
            "check with the courier",
        ),
        (  # the customer's thanks keep the promise open; a later answer closes it
            [(C, "Where is LK-1234?"), (G, "We will email you tomorrow."), (C, "ok thanks")],
            "email you tomorrow",
        ),
        ([(C, "Where is LK-1234?"), (G, "I'll check."), (G, "It arrives on Friday.")], ""),
        (  # a notice between the promise and the resolve keeps nothing
            [(C, "Where is LK-1234?"), (G, "I'll chase the courier."), (J, "Bob joined.")],
            "chase the courier",
        ),
    ],
)
def test_resolving_warns_of_a_customer_left_waiting(
    turns: list[tuple[Kind, str]], caution: str
) -> None:
    """A resolve that leaves a need unanswered, or an agent's promise unkept, is said first
    (the card's ``resolve_caution``); otherwise nothing is."""
    found = resolve_caution(history(*turns))
    if caution:
        assert caution in found
    else:
        assert found == ""

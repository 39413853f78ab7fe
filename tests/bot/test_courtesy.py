"""Messages that ask nothing (greetings, thanks, an "ok") told from everything else, and an
agent's reply that asks the customer something told from one that only tells. The examples
are written for this test."""

from __future__ import annotations

import time

import pytest

from bot.conversation import Kind
from bot.courtesy import Courtesy, closes, courtesy
from bot.drafting import rejected_answers
from bot.model import Signals
from bot.needs import asks_customer, last_reply, open_needs, question_of
from tests.bot.test_needs import A, C, history


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("hi", Courtesy.GREETING),
        ("Hello there!", Courtesy.GREETING),
        ("good evening", Courtesy.GREETING),
        ("hey team", Courtesy.GREETING),
        ("thanks, that's all", Courtesy.THANKS),
        ("Great, thank you so much!", Courtesy.THANKS),
        ("ok cheers", Courtesy.THANKS),
        ("That helps, thanks again.", Courtesy.THANKS),
        ("bye! have a good weekend", Courtesy.THANKS),
        ("👍", Courtesy.THANKS),
        ("thanks :)", Courtesy.THANKS),
        ("Thanks 👍🏻", Courtesy.THANKS),
        ("thank you…", Courtesy.THANKS),
        ("hi again", Courtesy.GREETING),
        ("ok", Courtesy.ACK),
        ("Got it.", Courtesy.ACK),
        ("perfect", Courtesy.ACK),
        ("are you a bot?", Courtesy.IDENTITY),
        ("hey there, am I chatting with an AI?", Courtesy.IDENTITY),
        ("r u a bot", Courtesy.IDENTITY),
        ("is this automated", Courtesy.IDENTITY),
    ],
)
def test_courtesy_is_read_from_the_whole_message(text: str, said: Courtesy) -> None:
    assert courtesy(text) is said


@pytest.mark.parametrize(
    "text",
    [
        "yes please",  # an answer to something asked
        "no",  # may reject the answer
        "sorry?",
        "thanks for nothing",  # sarcasm
        "thanks anyway",  # the customer gives up
        "that didn't help",
        "hi, where is my parcel?",
        "thanks! also, do you deliver on Sundays?",
        "ok but it still won't switch on",
        "LK-48213",
        "Harwick",
        "??",
        "hi?",  # is anyone there?
        "are you open on sundays?",
        "are you a real person? I need one to check my refund",  # more than the question
        "are you a real person?",  # a request for a person, read by the signals
        "is that automated?",  # may ask about a text the customer was sent
        "thanks :(",
        "ok :(",
        "thanks " * 12,  # longer than courtesy is
        "",
    ],
)
def test_anything_more_than_courtesy_is_not_courtesy(text: str) -> None:
    assert courtesy(text) is None


def test_a_long_run_of_courtesy_words_is_read_in_linear_time() -> None:
    """A pattern with alternatives that overlap ("thank" + "you", "thank you") backtracks
    exponentially on "thank you thank you … ?"; the reader walks phrases instead."""
    started = time.perf_counter()
    for text in ("thank you " * 8 + "?", "bye bye " * 10 + "x", "ok " * 26 + "no"):
        assert courtesy(text) is None
    assert time.perf_counter() - started < 0.5


def test_a_rejection_after_a_courtesy_turn_reopens_the_answered_need() -> None:
    turns = history(
        (C, "How long do refunds take?"),
        (A, "We refund within 3 working days."),
        (C, "ok"),
        (Kind.COURTESY, "Glad to help."),
        (C, "that didn't help at all"),
    )
    assert [n.text for n in open_needs(turns)] == ["How long do refunds take?"]
    assert last_reply(turns[:4]) is not None and last_reply(turns[:4]).kind is A  # type: ignore[union-attr]
    assert rejected_answers(turns) == ("Some article",)


def test_a_question_sent_before_the_courtesy_line_for_hi_stays() -> None:
    """ "hi" and then a question, sent quickly: the bot's line for "hi" is stored after the
    question, and only the courtesy itself is left out."""
    turns = history(
        (C, "hi"),
        (C, "My parcel never arrived, where is my order?"),
        (Kind.COURTESY, "Hello! What can I help you with?"),
    )
    assert [n.text for n in open_needs(turns)] == ["My parcel never arrived, where is my order?"]
    assert question_of(turns) == "My parcel never arrived, where is my order?"


@pytest.mark.parametrize(
    ("reply", "asks"),
    [
        ("Sorry about that! Could you tell me your order number?", True),
        ("Please confirm the postcode on the order.", True),
        ("Which colour did you pick? Let me know and I'll swap it.", True),
        ("Your refund went out this morning.", False),
        ("It's on its way. Is there anything else I can help with?", False),
        ("I've sent a new code to your email.", False),
        ("Did that help?", False),
        ("Here is the link. Let me know if that helps!", False),
        ("Does that answer your question?", False),
        ("If that works for you, please confirm your delivery address.", True),
        ("Would that work for you, or do you prefer a refund?", True),
    ],
)
def test_an_agents_reply_that_asks_the_customer_something(reply: str, asks: bool) -> None:
    assert asks_customer(reply) is asks


THANKFUL = Signals(grateful=True, frustration=0.05)
SOLVED = Signals(frustration=0.05)


@pytest.mark.parametrize(
    ("text", "signals", "closing"),
    [
        # Written for this test: closings in a customer's own words.
        ("found it in my inbox, thanks!", THANKFUL, True),
        ("ah right, that makes sense now. thanks for explaining", THANKFUL, True),
        ("ok I'll try that, cheers", THANKFUL, True),
        ("it's working now, thank you", SOLVED, True),
        # A new problem, a request, a rejection, a disclosure, sarcasm, a detail told.
        ("thanks. the lamp is broken", THANKFUL, False),
        ("thanks, my order never came", THANKFUL, False),
        ("thanks, I'd like my money back", THANKFUL, False),
        ("cheers, no joy though", THANKFUL, False),
        ("thanks, I feel so alone at home", THANKFUL, False),
        ("thanks for wasting my evening", THANKFUL, False),
        ("thanks, it's LK-48213", THANKFUL, False),
        ("cheers, sent it to jo@example.com", THANKFUL, False),
        ("thanks, and do you deliver to Jersey", THANKFUL, False),
        ("thanks, is that the same for sale items?", THANKFUL, False),
        # Thanks the heads did not read, or read as upset.
        ("found it in my inbox, thanks!", SOLVED, False),
        ("found it in my inbox, thanks!", Signals(grateful=True, frustration=0.6), False),
    ],
)
def test_a_closing_in_own_words_is_told_from_thanks_with_more_to_say(
    text: str, signals: Signals, closing: bool
) -> None:
    assert closes(text, signals) is closing

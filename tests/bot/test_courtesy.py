"""Messages that ask nothing (greetings, thanks, an "ok") told from everything else, and an
agent's reply that asks the customer something told from one that only tells. The examples
are written for this test."""

from __future__ import annotations

import pytest

from bot.courtesy import Courtesy, courtesy
from bot.needs import asks_customer


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
        ("ok", Courtesy.ACK),
        ("Got it.", Courtesy.ACK),
        ("perfect", Courtesy.ACK),
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
        "",
    ],
)
def test_anything_more_than_courtesy_is_not_courtesy(text: str) -> None:
    assert courtesy(text) is None


@pytest.mark.parametrize(
    ("reply", "asks"),
    [
        ("Sorry about that! Could you tell me your order number?", True),
        ("Please confirm the postcode on the order.", True),
        ("Which colour did you pick? Let me know and I'll swap it.", True),
        ("Your refund went out this morning.", False),
        ("It's on its way. Is there anything else I can help with?", False),
        ("I've sent a new code to your email.", False),
    ],
)
def test_an_agents_reply_that_asks_the_customer_something(reply: str, asks: bool) -> None:
    assert asks_customer(reply) is asks

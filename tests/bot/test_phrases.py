"""The precise patterns of ``bot.phrases``, on messages written for these tests."""

from __future__ import annotations

import pytest

from bot.phrases import REPEAT_CONTACT


@pytest.mark.parametrize(
    "text",
    [
        "this is the third time I'm writing about the boiler",
        "how many times do I have to send the photo",
        "rang twice yesterday and nobody picked up",
        "I have telephoned three times",
        "you've sent me the same help page four times now",
        "I've typed the code in 5 times, it won't take it",
        "reinstalled the app four times on your advice",
        "called several times and nobody picks up",
        "how many more times do I need to ask for an update",
        "I've had to chase twice",
        "I asked for a refund, twice.",
        "done everything on the list. Twice.",
        "twice now the driver has left it at the wrong house",
        "that's 3 times now",
        "still no reply from anyone",
        "how many times have I told you my postcode",
        "how many more times do I have to send it",
        "How many times?!",
        "ive been on hold 3 times for over an hour",
        "i typed the code ten times",
    ],
)
def test_contacts_efforts_and_repeated_failures_are_counted(text: str) -> None:
    assert REPEAT_CONTACT.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice for one order",
        "my direct debit went out twice this month",
        "the invoice lists the vaccine twice",
        "oops, I booked the class twice, can you cancel one?",
        "can I change the dates twice for free?",
        "I take the tablets three times a day",
        "we visit twice a year",
        "I've asked about a refund",  # asking, not counting
        "how many times a year should the boiler be serviced?",
        "if we get told off for noise twice, would we lose the deposit?",
        # Found by a review: an effort in another clause, a duplicate, someone else's tries.
        "I emailed last week because I was charged twice, could someone look?",
        "I got the confirmation email twice, is that normal?",
        "The courier tried twice while I was out, can I rebook?",
        "How many times did you try to deliver?",
        # Found by a second review: fond memories, others' tries, a duplicate, a rate.
        "I've shopped here many times before and love it",
        "how many more times can I change my delivery date?",
        "the driver has tried to deliver three times, can I collect it?",
        "The order was sent twice, I only need one",
        "Given that I paid twice, can you refund one?",
        "I waited three times as long as the app said",
        "Can I use the code more than once? How many times?",
    ],
)
def test_things_counted_in_one_go_or_how_often_are_not_repeat_contacts(text: str) -> None:
    assert not REPEAT_CONTACT.search(text)

"""A customer who says they are not upset ("not annoyed at all, just checking") or accepts bad
news ("ah that's a shame but fair enough") or asks what happens in a case ("if it rains, do we
get a refund?") reads calm: the heads read the anger word in "not angry", the disappointment in
"a shame" and the bad case in a question about it, so precise patterns read these."""

from __future__ import annotations

import pytest

from bot.calm_words import accepts, asks_what_if, calm_rest, calm_words, disclaims
from bot.conversation_frustration import FEATURES, ConversationFrustration
from bot.model import Reading, Signals
from bot.policy import PolicyConfig, conversation_signals
from bot.signals import CALM_WORDS_LEVEL, frustration, said_calmly, settled


@pytest.mark.parametrize(
    "text",
    [
        "honestly not fussed about it, just wondering when the next slot is",
        "I'm not angry, just asking when the shop opens",
        "no hard feelings, the cake itself was lovely",
        "this isn't a complaint, I only need the invoice for my accountant",
        "I wasnt upset, only curious why the price changed",
        "not cross at all, these things happen. can I swap it for a medium?",
    ],
)
def test_a_sincere_disclaimer_is_read(text: str) -> None:
    assert disclaims(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not angry, but this is a joke",  # a preface to the complaint
        "not cross, though I did expect a call back",
        "I'm not mad at you, I'm mad at the courier",  # the feeling said again, not disclaimed
        "I'm not angry, I'm just tired. I've reinstalled it over and over",
        "not annoyed, just disappointed with the fit",
        "not annoyed!! just asking",
        "I'm not complaining, this is the third time I've asked",
        "not angry, that didn't answer my question",
        "don't make me angry",
        "the incessant complaining in the queue was something",  # "-nt" is not a negation
        "when will my refund arrive?",
    ],
)
def test_a_preface_or_another_upset_word_is_not_a_disclaimer(text: str) -> None:
    assert not disclaims(text)


@pytest.mark.parametrize(
    "text",
    [
        # Written for this test: low stakes said of the matter.
        "not a big deal, just flagging that the receipt has the wrong address",
        "no rush on this, could you send the manual when you get a chance?",
        "it's not urgent, I can pick it up on Friday instead",
        "no stress, I'll reorder the blue one",
        "not a big deal, the gate code on the email is out of date",
        "honestly not bothered, just mentioning it, the rest looks lovely",
    ],
)
def test_low_stakes_said_plainly_is_a_disclaimer(text: str) -> None:
    assert disclaims(text)


@pytest.mark.parametrize(
    "text",
    [
        "no rush, it's only been three weeks",  # sarcasm
        "not urgent at all, my flight is only tomorrow",
        "no hurry. still waiting, again.",
        "no rush on the reply, but why did nobody pick us up?",
        "not a big deal? you lost my passport",  # asked, not said
        "no rush, great service as always",
        # Found in review: an announcement, a wait, a threat or a tag question.
        "just letting you know I've been waiting 2 hours",
        "just a heads-up, I'll be leaving a 1 star review",
        "just flagging that nobody has replied in 5 days",
        "no rush lol, been waiting 3 weeks",
        "not urgent, just my whole heating system is down",
        "no hurry, I'll just cancel my subscription",
        "it's not a big deal, is it? you just lost my parcel",
    ],
)
def test_low_stakes_in_sarcasm_or_beside_a_grievance_is_not_a_disclaimer(text: str) -> None:
    assert not disclaims(text)


def test_low_stakes_after_a_problem_report_is_read_on_its_own() -> None:
    config = PolicyConfig(conversation_frustration=_always_yes())
    earlier = ["the lettering on the mug is a bit smudged"]
    readings = [Reading(levels={"frustration": 0.6}), Reading(levels={"frustration": 0.4})]
    latest = "not a big deal, just flagging it for your printer"
    assert conversation_signals(latest, earlier, config, readings).frustration == CALM_WORDS_LEVEL
    sarcastic = "no rush, it's only been three weeks"
    assert conversation_signals(sarcastic, earlier, config, readings).frustration >= 0.5


def test_a_disclaimer_reads_calm_whatever_the_head_says() -> None:
    head = Reading(levels={"frustration": 0.9})
    assert frustration("im not cross about it honestly, just checking", head) == CALM_WORDS_LEVEL
    assert frustration("I'm not angry, but this is a joke", head) == pytest.approx(0.9)
    calm = Reading(levels={"frustration": 0.05})
    assert frustration("not annoyed at all, just asking", calm) == pytest.approx(0.05)


def _always_yes() -> ConversationFrustration:
    zeros = (0.0,) * len(FEATURES)
    return ConversationFrustration(zeros, (1.0,) * len(FEATURES), zeros, 9.0, 0.5)


@pytest.mark.parametrize("model", [_always_yes(), None], ids=["model", "rules"])
def test_a_disclaimer_after_an_annoyed_turn_is_read_on_its_own(
    model: ConversationFrustration | None,
) -> None:
    config = PolicyConfig(conversation_frustration=model)
    earlier = ["honestly a bit annoyed, the groomer cut his ear"]
    latest = "not upset about it now, he's fine. just wondering about next time"
    readings = [Reading(levels={"frustration": 0.8}), Reading(levels={"frustration": 0.7})]
    read = conversation_signals(latest, earlier, config, readings)
    assert read.frustration == CALM_WORDS_LEVEL
    # A preface is not: the earlier turn carries.
    preface = "I'm not upset, but nobody has called me back"
    assert conversation_signals(preface, earlier, config, readings).frustration >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "ah that's a pity but fair enough, we'll take the later ferry",
        "understood, not your fault. I'll keep an eye on the website",
        "no worries, the 14th works for us",
        "oh it's sold out for good. that's ok, I'll pick a different colour",
        "these things happen, can you put me down for the next batch?",
    ],
)
def test_calm_acceptance_is_read(text: str) -> None:
    assert accepts(text)


@pytest.mark.parametrize(
    "text",
    [
        "fair enough, but I expected a call back at least",  # more after it
        "fine, I'll wait in again on Saturday I suppose",  # resignation
        "no problem, another fortnight without a washing machine",
        "understood. I'll take my custom elsewhere",
        "that's fine, great service as always",  # sarcasm
        "no worries, this is ridiculous though",
        "it's not ok that nobody called",  # no acceptance phrase
        "that is not fine at all",
    ],
)
def test_resigned_or_sarcastic_acceptance_is_not_calm(text: str) -> None:
    assert not accepts(text)


def test_acceptance_after_an_annoyed_turn_is_read_on_its_own() -> None:
    config = PolicyConfig(conversation_frustration=_always_yes())
    earlier = ["the class I booked has been cancelled, that's the second one"]
    latest = "ah that's a shame but fair enough, I'll book the thursday one"
    readings = [Reading(levels={"frustration": 0.8}), Reading(levels={"frustration": 0.6})]
    assert conversation_signals(latest, earlier, config, readings).frustration == CALM_WORDS_LEVEL


def test_an_acronym_elsewhere_is_not_stress() -> None:
    assert accepts("no worries, the UPS van can come on Monday")
    assert not accepts("that's FINE")


@pytest.mark.parametrize(
    "text",
    [
        "that’s fine, thanks for letting me know",  # a typographic apostrophe
        "not annoyed at all, it isn’t urgent",
    ],
)
def test_typographic_apostrophes_read_as_plain_ones(text: str) -> None:
    assert accepts(text) or disclaims(text)


@pytest.mark.parametrize(
    "text",
    [
        "I don't really think that's fine",  # denied in its clause
        "I don’t think that’s fair enough",
        "if that's ok with the manager, send it",  # a condition
        "that's fine? it is not fine",  # asked
        "understood, that didn’t help",  # a rejected answer, typographic apostrophe
        "sure, that's fine. thanks for nothing",  # resignation
    ],
)
def test_acceptance_denied_asked_or_turned_is_not_calm(text: str) -> None:
    assert not accepts(text)


@pytest.mark.parametrize(
    "text",
    [
        "how am i not angry at this point?",  # asked
        "I'm NOT angry",  # a word of it in capitals
        "Not fussed. Whatever you say.",  # resignation
        "not bothered, I'll take my custom elsewhere",
    ],
)
def test_a_disclaimer_asked_stressed_or_resigned_is_not_calm(text: str) -> None:
    assert not disclaims(text)


def test_calm_words_hold_only_when_the_rest_of_the_message_reads_calm() -> None:
    text = "that's fine, I'll do a chargeback then"
    head = 0.85
    frustrated_rest = Reading(levels={"frustration": head}, rest=0.9)
    calm_rest = Reading(levels={"frustration": head}, rest=0.1)
    assert not said_calmly(text, frustrated_rest)
    assert frustration(text, frustrated_rest) == pytest.approx(head)
    assert said_calmly(text, calm_rest)
    assert frustration(text, calm_rest) == CALM_WORDS_LEVEL
    # Not capped, it does not settle the conversation either.
    assert not settled(text, Signals(frustration=head), frustrated_rest)
    assert settled(text, Signals(frustration=CALM_WORDS_LEVEL), calm_rest)
    # Nor when the whole message reads calm to the head but its rest does not.
    low = Reading(levels={"frustration": 0.19}, rest=0.87)
    assert not settled("no problem, I'll dispute the charge", Signals(frustration=0.19), low)


def test_a_long_message_of_calm_words_is_read() -> None:
    assert disclaims("not angry, " * 2000 + "just asking")
    assert not accepts("fair enough, " * 2000 + "but no")


@pytest.mark.parametrize(
    "text",
    [
        "if the ferry is cancelled because of a storm, do we get our money back?",
        "what happens if my flight lands late and I miss the pickup?",
        "whats the fee if we bring the trailer back a day late",
        "we're booked for june. worst case, if my knee doesn't heal, can I move it to september?",
        "If you can't deliver by Friday, can I cancel?",  # not "if you can", asked politely
        "The kit was £49.99. If it breaks, can I return it?",  # a price is no sentence end
    ],
)
def test_a_question_about_a_case_is_calm(text: str) -> None:
    assert asks_what_if(text) and calm_words(text)


@pytest.mark.parametrize(
    "text",
    [
        "why would I pay if you can't even fix it?",  # "why"
        "if it breaks again, do I have to pay for it again?",  # "again"
        "if it still won't start, what then?",  # "still"
        "if this is how you treat loyal customers, do you expect me to stay?",  # rhetorical
        "if you can't deliver by friday I'm cancelling",  # a threat, not a question
        "just wondering if the pool is open on sundays?",  # "if" as "whether", nothing to plan
        "if it's late AGAIN, do I get anything back??",  # stressed
        "great, so if it rains I just lose the lot?",  # sarcasm
        # Found by a review: rhetoric the head reads high, politeness, a statement.
        "If nobody turns up tomorrow either, who do I complain to?",
        "What exactly have you been doing for three weeks, if you don't mind me asking?",
        "Can I speak to a manager today if possible?",
        "If this is the service I get, I'll be taking my business to a different provider.",
        # Found by a second review: statements that open with a verb, rhetoric.
        "Would have been nice if someone had told me the delivery was cancelled",
        "How is it fair that if I'm 5 minutes late you charge me £20?",
        "If I leave a bad review, will someone finally reply?",
        "is this a joke? if I cancel do I get my money back",
    ],
)
def test_a_question_about_a_case_asked_in_anger_is_not_calm(text: str) -> None:
    assert not asks_what_if(text)


def test_a_question_about_a_case_reads_calm_but_settles_nothing() -> None:
    """A customer upset earlier may ask one ("what happens if it doesn't come tomorrow?"): it
    caps the turn, and the earlier turns still carry."""
    text = "what happens if it doesn't come tomorrow?"
    signals = Signals(frustration=frustration(text))
    assert said_calmly(text) and signals.frustration <= CALM_WORDS_LEVEL
    assert not settled(text, signals)


def test_the_rest_of_a_question_about_a_case_is_what_went_before() -> None:
    text = "The engineer never turned up. If he misses tomorrow too, do I get compensation?"
    assert calm_rest(text) == "The engineer never turned up"
    assert calm_rest("what if I'm an hour late?") == ""

"""The model of frustration over a conversation, and when the policy uses it."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bot.calm_words import resolved, solved_rest
from bot.conversation import Kind, Message, customer_turns_since_people
from bot.conversation_frustration import (
    FEATURES,
    ConversationFrustration,
    conversation_features,
)
from bot.model import Reading
from bot.policy import PolicyConfig, conversation_signals, turn_signals

ZEROS = (0.0,) * len(FEATURES)


def _model(
    weights: dict[str, float], intercept: float = 0.0, threshold: float = 0.5
) -> ConversationFrustration:
    return ConversationFrustration(
        means=ZEROS,
        scales=(1.0,) * len(FEATURES),
        weights=tuple(weights.get(name, 0.0) for name in FEATURES),
        intercept=intercept,
        threshold=threshold,
    )


def _reading(frustration: float, **levels: float) -> Reading:
    return Reading(levels={"frustration": frustration, **levels})


def test_the_level_is_one_half_at_the_models_threshold() -> None:
    model = _model({"latest": 1.0}, threshold=0.6)
    at_threshold = math.log(0.6 / 0.4)  # the logit of 0.6
    features = [at_threshold if name == "latest" else 0.0 for name in FEATURES]
    assert model.probability(features) == pytest.approx(0.6)
    assert model.level(features) == pytest.approx(0.5)
    assert model.level([9.0 if name == "latest" else 0.0 for name in FEATURES]) > 0.99


def test_a_file_for_other_features_or_of_the_wrong_size_is_refused() -> None:
    data = {"features": [*FEATURES, "extra"], "means": [], "scales": [], "weights": []}
    with pytest.raises(ValueError, match="not this version's"):
        ConversationFrustration.from_mapping({**data, "intercept": 0, "threshold": 0.5})
    with pytest.raises(ValueError, match=f"expected {len(FEATURES)} features"):
        ConversationFrustration(ZEROS, ZEROS, ZEROS[:-1], 0.0, 0.5)


def test_a_model_of_bad_numbers_is_refused() -> None:
    ones = (1.0,) * len(FEATURES)
    with pytest.raises(ValueError, match="JSON object"):
        ConversationFrustration.from_mapping([])
    with pytest.raises(ValueError, match="finite"):
        ConversationFrustration(ZEROS, ones, (math.nan, *ZEROS[1:]), 0.0, 0.5)
    with pytest.raises(ValueError, match="finite"):
        ConversationFrustration(ZEROS, ZEROS, ZEROS, 0.0, 0.5)
    with pytest.raises(ValueError, match="probability"):
        ConversationFrustration(ZEROS, ones, ZEROS, 0.0, 1.5)


def test_the_features_read_the_turns_the_heads_and_the_patterns() -> None:
    turns = [
        "where is my parcel",
        "the tracking has not moved since monday",
        "that didn't answer my question, this is the third time I ask",
    ]
    readings = [
        _reading(0.1),
        _reading(0.45),
        Reading(levels={"frustration": 0.6, "complaint": 0.3, "gratitude": 0.2}, echo=0.7),
    ]
    signals = turn_signals(turns, PolicyConfig(), readings)
    features = dict(zip(FEATURES, conversation_features(turns, signals, readings[-1]), strict=True))
    assert features["latest"] == pytest.approx(signals[-1].frustration)
    assert signals[-1].frustration > 0.6, "counting contacts raises the turn's own level"
    assert features["earlier_most"] == pytest.approx(0.45)
    assert features["negative_just_before"] == 1.0  # only the second turn is mildly negative
    assert features["not_helpful"] == features["repeat_contact"] == 1.0
    assert features["echo"] == 0.7
    assert features["complaint"] == 0.3
    assert features["no_longer_needed"] == 0.0


def test_thanks_that_a_word_turns_count_for_nothing() -> None:
    turns = ["my refund is late", "thanks for nothing then"]
    readings = [_reading(0.3), _reading(0.2, gratitude=0.9)]
    signals = turn_signals(turns, PolicyConfig(), readings)
    assert (
        dict(zip(FEATURES, conversation_features(turns, signals, readings[-1]), strict=True))[
            "thanks"
        ]
        == 0.0
    )
    turns[-1] = "that worked, thank you so much"
    signals = turn_signals(turns, PolicyConfig(), readings)
    assert (
        dict(zip(FEATURES, conversation_features(turns, signals, readings[-1]), strict=True))[
            "thanks"
        ]
        == 0.9
    )


def test_the_policy_weighs_the_conversation_with_the_model_when_the_heads_read_it() -> None:
    model = _model({"earlier_most": 8.0}, intercept=-4.0)  # frustrated if it ever was
    config = PolicyConfig(conversation_frustration=model)
    earlier = ["this is useless"]
    text = "what are your opening hours"
    read = conversation_signals(text, earlier, config, [_reading(0.9), _reading(0.0)])
    assert read.frustration > 0.9
    assert read.trend == (0.9, 0.0)
    # Without the model, the rules carry the earlier turn over at a quarter: not frustrated.
    rules = conversation_signals(text, earlier, PolicyConfig(), [_reading(0.9), _reading(0.0)])
    assert rules.frustration == pytest.approx(0.225)


def test_the_rules_weigh_it_when_the_heads_did_not_read_the_turns() -> None:
    config = PolicyConfig(conversation_frustration=_model({}, intercept=9.0))  # always "yes"
    text, earlier = "what are your opening hours", ["hello"]
    assert conversation_signals(text, earlier, config).frustration == 0.0  # no readings
    unread = [Reading(echo=0.1), Reading(echo=0.2)]  # the heads are off: no frustration level
    assert conversation_signals(text, earlier, config, unread).frustration == 0.0
    assert conversation_signals(text, [], config, [_reading(0.1)]).frustration == 0.1


def test_a_run_of_mildly_negative_turns_is_never_read_lower_by_the_model() -> None:
    config = PolicyConfig(conversation_frustration=_model({}, intercept=-9.0))  # always "no"
    earlier = ["the refund still hasn't come", "the bank says there is nothing"]
    readings = [_reading(0.45), _reading(0.45), _reading(0.45)]
    read = conversation_signals("it has been three weeks", earlier, config, readings)
    assert read.frustration == pytest.approx(0.65)


def _history(*kinds_and_texts: tuple[Kind, str]) -> list[Message]:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    return [Message(i, "c1", kind, text, at) for i, (kind, text) in enumerate(kinds_and_texts, 1)]


def test_what_came_before_a_person_handed_back_or_resolved_is_not_carried() -> None:
    angry = (Kind.CUSTOMER, "third time asking, this is useless")
    calm = (Kind.CUSTOMER, "do you deliver on sundays?")
    assert customer_turns_since_people(_history(angry, (Kind.ESCALATED, "…"), calm)) == [
        "third time asking, this is useless",
        "do you deliver on sundays?",
    ]
    for done in (Kind.HANDED_BACK, Kind.RESOLVED):
        history = _history(angry, (Kind.AGENT_MESSAGE, "sorted"), (done, "…"), calm)
        assert customer_turns_since_people(history) == ["do you deliver on sundays?"]
    assert customer_turns_since_people(_history(angry, (Kind.RESOLVED, "…"))) == []


@pytest.mark.parametrize(
    "text",
    [
        "ah right, that explains it",
        "the refund has come through now",
        "logged back in, cheers",
        "oh it's just turned up at the back door, all good",
        "that did the trick",
        "that fixed it, cheers",  # not read as "that fixed" with "it" left over
        "that's sorted it out, thanks",
        "the reset sorted it",
        # The customer's own slip, or a scare that is over.
        "oh the email went to my junk folder. my bad",
        "my mistake, I was looking at the wrong account",
        "ignore me, it was under 'transferred' all along",
        "oh wait the parcel's in the porch, panic over",
        "false alarm, the charge was my partner's",
        "changed the number on my profile now, no harm done",
        "ah my mistake, it was the old card",
        "sorry for the fuss!!",
        "whatever you did, it's working now, thanks",
        "I wasn't sure it had gone through. it's just come through now",  # another sentence
        "oh of course, that makes sense now",
        "makes sense, I'll check again on monday then. cheers",
        "all good, cheers again",
    ],
)
def test_a_problem_said_to_be_solved_is_resolved(text: str) -> None:
    assert resolved(text)


@pytest.mark.parametrize(
    "text",
    [
        "it hasnt come through",  # negations, with or without an apostrophe
        "the refund didn\u2019t come through",
        "none of this makes sense",
        "I don't think it's come through",
        "has the refund come through",  # a question without its mark
        "is it working now?",
        "let me know if the money has come through",  # a condition
        "my order has arrived damaged",  # the phrase does not end its clause
        "I got back in touch with the courier",
        "it's working now but I was charged twice",  # more after it
        "it's working now, no thanks to you",
        "all good, I'll take my business elsewhere",
        "it's not my mistake",  # a slip denied, or the words about something else
        "this was never my mistake",
        "hardly a false alarm",
        "don't ignore me",
        "you keep telling me to ignore my last message",
        "fine, ignore me",
        "my bad for trusting you",
        "sure, my bad",  # scoffed, or taken back
        "yeah right, that explains it",
        "panic over. again",
        "I suppose it's my mistake then",  # grudging
        "your colleague said it was my mistake",  # not a slip owned
        "according to your email it was my mistake",
        "just ignore me then",
        "sorry for the trouble but it's still broken",
    ],
)
def test_a_negated_conditional_or_unfinished_solution_is_not_resolved(text: str) -> None:
    assert not resolved(text)


def test_a_settled_latest_message_is_read_on_its_own() -> None:
    always = PolicyConfig(conversation_frustration=_model({}, intercept=9.0))  # always "yes"
    earlier = ["this is useless, third time I'm asking", "still nothing"]
    calm = [_reading(0.9), _reading(0.6), _reading(0.2)]
    read = conversation_signals("ah, it's just come through now", earlier, always, calm)
    assert read.frustration == pytest.approx(0.2)
    assert read.trend[-1] == pytest.approx(0.2)
    # Not when the message reads less than calm on its own, or rejects an answer.
    upset = [_reading(0.9), _reading(0.6), _reading(0.45)]
    arrived = "ah, it's just come through now"
    assert conversation_signals(arrived, earlier, always, upset).frustration > 0.9
    rejects = "that didn't help, though the parcel has just come through"
    assert conversation_signals(rejects, earlier, always, calm).frustration > 0.9


def test_a_solved_problem_told_with_what_went_wrong_settles_when_the_rest_reads_calm() -> None:
    """Telling what went wrong reads negative to the head ("his van broke down"); a message
    that closes on the words that say it is solved settles when the rest reads calm without
    them, and not when that rest is upset too."""
    always = PolicyConfig(conversation_frustration=_model({}, intercept=9.0))  # always "yes"
    earlier = ["the engineer was due at 8, where is he", "nobody is answering the phone"]
    text = "his van broke down on the motorway. he's here now, all good"
    told = Reading(levels={"frustration": 0.6}, solved_rest=0.3)
    read = conversation_signals(text, earlier, always, [_reading(0.8), _reading(0.7), told])
    assert read.frustration == pytest.approx(0.6)  # its own level: nothing carried
    upset = Reading(levels={"frustration": 0.6}, solved_rest=0.55)
    carried = conversation_signals(text, earlier, always, [_reading(0.8), _reading(0.7), upset])
    assert carried.frustration > 0.9
    # The calm words' rest is another reading: it does not settle a solved problem.
    calm_words_rest = Reading(levels={"frustration": 0.6}, rest=0.1)
    also = conversation_signals(
        text, earlier, always, [_reading(0.8), _reading(0.7), calm_words_rest]
    )
    assert also.frustration > 0.9
    # A negative word still refuses it, whatever the rest reads.
    rude = "all sorted now, what a ridiculous morning"
    assert (
        conversation_signals(
            rude, earlier, always, [_reading(0.8), _reading(0.7), told]
        ).frustration
        > 0.9
    )


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        (
            "his van broke down on the motorway. he's here now, all good",
            "his van broke down on the motorway. he's here now",
        ),
        ("the email went to my junk folder. my bad, cheers", "the email went to my junk folder"),
        ("so that was my mistake, was it. all good", "so that was my mistake, was it"),
        ("all good", None),  # nothing else to read
        ("oh my bad", None),
        ("so it's all sorted now", None),  # the lead-in of the closing clause is not read
        ("it's working now. took you long enough", None),  # it does not close the message
        ("the link never worked and nothing has come through", None),  # negated
    ],
)
def test_the_rest_of_a_solved_problem_is_what_it_tells_before_closing(
    text: str, rest: str | None
) -> None:
    assert solved_rest(text) == rest

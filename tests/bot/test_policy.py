from __future__ import annotations

from dataclasses import replace

import pytest

from bot.learning import NotedQuestion
from bot.model import ArticleMatch, EscalationReason, Reading, Retrieval, Signals
from bot.policy import (
    PolicyConfig,
    Responder,
    conversation_signals,
    conversation_topics,
    decide,
)
from bot.signals import DEFAULT_SENSITIVE_TOPICS, compile_topics, read_signals

CONFIG = PolicyConfig()


def _retrieval(confidence: float, sims: tuple[float, ...] = (0.8, 0.5)) -> Retrieval:
    matches = tuple(
        ArticleMatch(f"a{i}", f"Article {i}", None, "faq.csv", sim, (f"Answer {i}.",))
        for i, sim in enumerate(sims)
    )
    return Retrieval("q", matches, confidence, 0.6, sims[0] - sims[1] if len(sims) > 1 else 1.0)


class FixedRetriever:
    def __init__(self, retrieval: Retrieval) -> None:
        self.retrieval = retrieval
        self.queries: list[str] = []

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        self.queries.append(text)
        return self.retrieval


def _decide(text: str, retrieval: Retrieval) -> tuple[str, tuple[EscalationReason, ...]]:
    decision = decide(retrieval, read_signals(text, CONFIG.topics), CONFIG)
    return decision.action, decision.reasons


def test_confident_answer_cites_the_best_article() -> None:
    decision = decide(_retrieval(0.9), read_signals("how do I return this", CONFIG.topics), CONFIG)
    assert decision.action == "answer"
    assert decision.answer is not None and decision.answer.article_id == "a0"
    assert decision.reasons == ()


def test_low_confidence_escalates() -> None:
    assert _decide("how do I return this", _retrieval(0.3)) == (
        "escalate",
        (EscalationReason.LOW_CONFIDENCE,),
    )


def test_no_match_escalates() -> None:
    empty = Retrieval("q", (), 0.0, 0.6, 0.0)
    assert _decide("hello", empty) == ("escalate", (EscalationReason.LOW_CONFIDENCE,))


def test_two_close_articles_are_ambiguous() -> None:
    assert _decide("card", _retrieval(0.4, (0.71, 0.70))) == (
        "escalate",
        (EscalationReason.AMBIGUOUS,),
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Can I talk to a real person please", EscalationReason.HUMAN_REQUEST),
        ("I want to speak with an agent", EscalationReason.HUMAN_REQUEST),
        ("I'd like to file a complaint about your service", EscalationReason.COMPLAINT),
        ("This is RIDICULOUS, third time I ask!!! Useless", EscalationReason.FRUSTRATION),
        ("I will contact my lawyer about this order", EscalationReason.SENSITIVE),
        ("There is an unauthorised charge, I think it's fraud", EscalationReason.SENSITIVE),
    ],
)
def test_signals_escalate_even_when_confident(text: str, reason: EscalationReason) -> None:
    action, reasons = _decide(text, _retrieval(0.95))
    assert action == "escalate"
    assert reason in reasons
    assert EscalationReason.LOW_CONFIDENCE not in reasons


@pytest.mark.parametrize(
    ("text", "fraud"),
    [
        ("a £64 payment to a gaming site showed up last night. wasn't me", True),
        ("Someone moved £300 out of my savings. I never authorized that.", True),
        ("I didn't order the blue one, I ordered green", False),
        ("was it me or did the page just reload?", False),
        # An account taken over.
        ("my login email got switched to an address I don't know and now I can't get in", True),
        ("someone changed my password and now I can't log in", True),
        ("pretty sure my account got hacked last night", True),
        ("I think my card has been compromised", True),
        ("somebody has been ordering on my account without my permission", True),
        # A detail changed, or permission and hackers in general, tell no takeover.
        ("I changed my email address last week, how do I confirm it?", False),
        ("My phone number has been changed, how do I update it on my account?", False),
        ("My PIN was changed at the ATM yesterday but the card still gets declined", False),
        ("Will my subscription renew without my permission?", False),
        ("How do you protect my card details from hackers?", False),
        ("The seal on the box was compromised when it arrived", False),
    ],
)
def test_a_payment_disowned_or_an_account_taken_over_is_fraud(text: str, fraud: bool) -> None:
    """The pattern alone (no heads): "wasn't me" and "didn't authorise" disown a payment;
    "hacked", "without my permission" and a login detail changed under the customer tell a
    takeover."""
    assert ("fraud" in read_signals(text, CONFIG.topics).sensitive_topics) == fraud


@pytest.mark.parametrize(
    ("text", "harm"),
    [
        # Written for this test: harm told as what happened to someone's body.
        ("the mirror fell off the wall and cut my son's arm quite deep", True),
        ("the kettle spat boiling water and burnt his hand", True),
        ("the chair collapsed under me and I hurt my back quite badly", True),
        ("the glass top shattered, she needed stitches", True),
        ("we ended up in A&E after the bunk bed ladder snapped", True),
        ("my toddler got hurt on the sharp edge of the cot", True),
        ("the drawer slammed and trapped my daughter's fingers", True),
        ("I've hurt myself on the frame, there's a loose screw", True),
        # Questions of what might happen, and harm to things, not people.
        ("Will a firm mattress hurt my back?", False),
        ("would this pillow help if my neck hurts in the morning?", False),
        ("Can I cut the rug to size myself?", False),
        ("the toast was burnt, is the toaster faulty?", False),
        ("my hands are full, can the driver bring it to the door?", False),
        ("the vase arrived broken, can I get a replacement?", False),
        ("Is your hospital bed range available for home delivery?", False),
        ("the shelf came down overnight, luckily nobody was hurt", False),
        ("my feelings were hurt by how the agent spoke to me", False),
    ],
)
def test_harm_to_a_person_is_a_safety_case(text: str, harm: bool) -> None:
    """The pattern alone (no heads): an injury told in everyday words, not the word "injury"."""
    assert ("safety" in read_signals(text, CONFIG.topics).sensitive_topics) == harm


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # Written for this test: a death told by the bereaved.
        ("my nan passed away in the spring and her catalogue account is still open", "bereavement"),
        ("The account holder has died. What do you need from us?", "bereavement"),
        ("I'm the executor and need the final statement", "bereavement"),
        ("please stop the letters to my late father", "bereavement"),
        ("our cat died on Friday so we won't need the food delivery", "bereavement"),
        ("we lost our son last year and the reminders are hard to see", "bereavement"),
        ("Mum died in March. Can you stop the magazine?", "bereavement"),
        ("my aunt is no longer with us, please close her account", "bereavement"),
        # Someone at risk.
        ("honestly I can't do this anymore, I want to end it all", "crisis"),
        ("I've had thoughts of suicide since the debt letters started", "crisis"),
        ("I'm scared for my safety, my ex still has the login", "crisis"),
        ("my partner is abusive and reads these emails", "crisis"),
        ("I'm being abused by my husband and need the account in my name", "crisis"),
        ("Im in danger, please help", "crisis"),
        ("I do not want to live anymore", "crisis"),
        ("I'm going to take my own life", "crisis"),
        ("my wife passed 2 weeks ago and the bills are in her name", "bereavement"),
        ("my husband’s died and I can't find the policy number", "bereavement"),
        ("I don't want to be here anymore", "crisis"),
    ],
)
def test_a_bereaved_customer_or_one_at_risk_is_a_sensitive_case(text: str, topic: str) -> None:
    """The patterns alone (no heads): a person answers a bereaved customer and one at risk."""
    assert topic in read_signals(text, CONFIG.topics).sensitive_topics


@pytest.mark.parametrize(
    "text",
    [
        "my son passed his test, can he go on my policy?",
        "my dad passed on your details, are you open Sundays?",
        "the battery died after two days",
        "do you deliver funeral wreaths on Saturdays?",
        "I lost my mum's gift card, can you reissue it?",
        "this queue is killing me, when do you open?",
        "does the contract end automatically in May?",
        "is my card data in danger if I pay on the app?",
        # Found in review: tests passed, idioms of danger and dying, a relative's belongings.
        "my daughter passed last week, how much to add her as a named driver?",
        "My son passed! Can I add him to the policy?",
        "he's 22 and passed 4 years ago, can he drive my car?",
        "my stepper died after a week",
        "Martin came out to tune my late mum's piano today",
        "I'm in danger of missing my flight, where's the taxi?",
        "I don't want to live in this flat anymore, how do I end the lease?",
        "I'm going to die of embarrassment if the cake is late",
        "is the Suicide Squad blu-ray back in stock?",
        "I was abused by your staff on the phone",
    ],
)
def test_everyday_words_for_death_and_danger_are_not_a_sensitive_case(text: str) -> None:
    topics = read_signals(text, CONFIG.topics).sensitive_topics
    assert "bereavement" not in topics and "crisis" not in topics


@pytest.mark.parametrize(
    ("text", "cancelling"),
    [
        # Written for this test: ending what binds the customer, in many words.
        ("please close my savings account, I've moved banks", True),
        ("I want to end our broadband contract when we move", True),
        ("stop the veg box plan entirely please", True),
        ("How do I quit my gym membership?", True),
        ("cancelling my premium subscription today", True),
        ("giving notice to terminate the lease on unit 4", True),
        ("close account pls", True),
        # One order or booking, a card, a newsletter, the contract's end as a date.
        ("can I cancel my order from this morning?", False),
        ("please cancel the booking for Friday", False),
        ("I need to cancel my card, it's lost", False),
        ("how do I stop my subscription to the newsletter", False),
        ("when is the end of my contract?", False),
        ("can I leave my membership card at the front desk?", False),
        ("stop someone using my account on my old phone", False),
        ("can you stop the emails to my account", False),
        # Found in review: "end" and "leave" as nouns, a state of the account, a step, a change.
        ("in the end my account was credited, thanks", False),
        ("while I'm on maternity leave my membership should be frozen", False),
        ("how do I stop my account being locked", False),
        ("please leave the plan as it is", False),
        ("I need to finish my account setup", False),
        ("cancel my plan upgrade", False),
        ("cancel my subscription box delivery for this week", False),
        ("cancel my subscription to your emails", False),
        ("I want to leave my membership", True),
    ],
)
def test_ending_a_contract_is_told_from_ending_an_order(text: str, cancelling: bool) -> None:
    """The pattern alone (no heads): the verb and what it ends."""
    assert ("cancellation" in read_signals(text, CONFIG.topics).sensitive_topics) is cancelling


@pytest.mark.parametrize(
    "text",
    [
        "How do I contact customer service?",
        "What are your opening hours?",
        "Thanks, that was helpful!",
        "Can I return a personalised mug?",
    ],
)
def test_ordinary_questions_raise_no_signal(text: str) -> None:
    signals = read_signals(text, CONFIG.topics)
    assert not signals.human_request and not signals.complaint and not signals.sensitive_topics
    assert signals.frustration < CONFIG.frustration_threshold


@pytest.mark.parametrize(
    "text",
    [
        "Might I have a word with one of your mortgage advisers before I sign?",
        "is there somebody we could speak to about the booking for my mum",
        "could anyone at the Glasgow branch ring me about the repair",
        "would be great if one of your engineers could walk me through the setup",
        "Can someone from your billing team check why I was charged twice?",
        # One list of what a person is asked to do serves every form of the ask.
        "Could a member of staff phone me about the refund?",
        "can an agent walk me through the new tariff",
        # Written for this test, after the service was tried with such asks.
        "Can a colleague of yours take a look at order LK-55120?",
        "could I have a word with your supervisor",
        "I'd like to speak to the manager please",
        "can you escalate this please",
        "I want my complaint escalated",
        "transfer me",
        "Operator!",
        "Transfer me please",
        "please escalate",
        "can this be escalated?",
        "put me through to the manager",
    ],
)
def test_a_person_asked_for_by_role_or_team_is_a_request_for_a_person(text: str) -> None:
    assert read_signals(text, CONFIG.topics).human_request


@pytest.mark.parametrize(
    "text",
    [
        "Someone from your billing team rang me yesterday and sorted it, thanks",
        "does one of your fitters bring the brackets with them?",
        "can one of your couriers leave the parcel with the concierge?",
        # Found in review: a past talk, a plan told, someone who is not the company's.
        "I talked to one of your drivers yesterday, so where is it now?",
        "The email said one of your engineers will call on Tuesday, what time?",
        "Can someone on the joint account call to change the address?",
        "Will anyone at the venue check tickets at the door?",
        "could somebody in the family help me set it up?",
        "the argument escalated and the driver left",
        "can I transfer my booking to a friend?",
        "how do I transfer money to my card?",
        # Found in review: a story of a person, not an ask; an escalation refused or of costs.
        "the money was transferred to the agent last week",
        "I talked to the agent at the airport and she said it was fine",
        "my call got transferred to the manager and then cut off",
        "no need to escalate this, just curious",
        "do not escalate this",
        "will the costs escalate this year?",
    ],
)
def test_a_person_named_without_being_asked_for_is_not_a_request(text: str) -> None:
    assert not read_signals(text, CONFIG.topics).human_request


@pytest.mark.parametrize(
    ("uncovered", "action"), [(None, "answer"), (0.2, "answer"), (0.8, "escalate")]
)
def test_an_article_that_does_not_hold_the_question_is_not_answered(
    uncovered: float | None, action: str
) -> None:
    retrieval = replace(_retrieval(0.95), uncovered=uncovered)
    decision = decide(retrieval, Signals(), CONFIG)
    assert decision.action == action
    if action == "escalate":
        assert decision.reasons == (EscalationReason.NOT_COVERED,), "the card says why"
    tied = replace(_retrieval(0.95, sims=(0.8, 0.79)), uncovered=uncovered)
    if action == "escalate":
        assert decide(tied, Signals(), CONFIG).reasons == (EscalationReason.NOT_COVERED,), (
            "out of scope, not two articles alike: the confident pick holds too little"
        )


def test_frustration_carries_over_from_earlier_turns() -> None:
    alone = conversation_signals("still no refund", (), CONFIG)
    after = conversation_signals(
        "still no refund", ("where is my refund??", "this is useless, not helpful"), CONFIG
    )
    assert after.frustration > alone.frustration
    assert after.frustration >= CONFIG.frustration_threshold


def _read(levels: list[float], grateful_last: bool) -> list[Reading]:
    """Readings with these frustration levels; the last one also thanks if ``grateful_last``."""
    return [
        Reading(
            levels={
                "frustration": lv,
                "gratitude": 0.9 if grateful_last and i == len(levels) - 1 else 0.1,
            }
        )
        for i, lv in enumerate(levels)
    ]


def test_a_calm_thank_you_ends_a_run_of_mildly_negative_turns() -> None:
    """Two mildly negative turns add up to a flag, unless the customer then thanks calmly."""
    earlier = ("the tracking hasn't moved in a week", "the courier says they never got it")
    text = "ok, the courier will try again on monday"
    plain = conversation_signals(text, earlier, CONFIG, _read([0.45, 0.45, 0.1], False))
    assert plain.frustration >= CONFIG.frustration_threshold
    thanked = conversation_signals(text, earlier, CONFIG, _read([0.45, 0.45, 0.1], True))
    assert thanked.grateful and thanked.frustration < CONFIG.frustration_threshold


def test_news_that_the_problem_is_solved_ends_a_run_of_mildly_negative_turns() -> None:
    """The customer says it is solved, calmly, without thanks; said in words that read less
    than calm, the run still adds up."""
    earlier = ("the tracking hasn't moved in a week", "the courier says they never got it")
    text = "ah, it's just come through now"
    calm = conversation_signals(text, earlier, CONFIG, _read([0.45, 0.45, 0.1], False))
    assert calm.frustration == pytest.approx(0.1)
    tense = conversation_signals(text, earlier, CONFIG, _read([0.45, 0.45, 0.45], False))
    assert tense.frustration >= CONFIG.frustration_threshold
    worded = conversation_signals(  # read calm, but in a negative word
        "finally came through, ridiculous service", earlier, CONFIG, _read([0.45, 0.45, 0.1], False)
    )
    assert worded.frustration >= CONFIG.frustration_threshold


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("ok, thanks for the help", 0.45),  # thanks that read mildly negative
        ("thanks for nothing", 0.1),  # a word turns the thanks
        ("thanks, but that didn't help", 0.1),  # and the answer is rejected
        ("wow, thanks for wasting my afternoon", 0.3),  # thanks that do not read calm
    ],
)
def test_thanks_that_are_not_calm_still_add_up(text: str, level: float) -> None:
    """The readings are made up here: whatever the heads say, the rule keeps the flag."""
    earlier = ("the tracking hasn't moved in a week", "the courier says they never got it")
    signals = conversation_signals(text, earlier, CONFIG, _read([0.45, 0.45, level], True))
    assert signals.grateful
    assert signals.frustration >= CONFIG.frustration_threshold


def test_saying_twice_that_the_answer_missed_the_question_is_frustration() -> None:
    """Once is a correction; the second time, the customer is going in circles."""
    once = conversation_signals(
        "I'm not asking about returns, I'd like to swap them for a bigger size",
        ("how do I send back shoes?",),
        CONFIG,
    )
    assert once.frustration < CONFIG.frustration_threshold
    twice = conversation_signals(
        "no, I'm not asking about delivery times, I need to know where my order is",
        ("when will my sofa arrive?", "that's not what I asked"),
        CONFIG,
    )
    assert twice.frustration >= CONFIG.frustration_threshold


def test_responder_searches_and_decides() -> None:
    retriever = FixedRetriever(_retrieval(0.9))
    decision = Responder(retriever=retriever, config=CONFIG).respond("how do I return this")
    assert retriever.queries == ["how do I return this"]
    assert decision.action == "answer"


class Confidences:
    """The traffic observer port: keeps what it is told."""

    calibrated_threshold = 0.7

    def __init__(self) -> None:
        self.seen: list[float] = []

    def observe(self, confidence: float) -> None:
        self.seen.append(confidence)


@pytest.mark.parametrize(
    ("text", "confidence", "observed"),
    [
        ("how do I return this", 0.9, True),  # answered
        ("how do I return this", 0.3, True),  # escalated only because the bot was unsure
        ("can I speak to a real person please", 0.9, False),  # a signal decided it
        ("this is useless, I am furious", 0.3, False),
        ("thank you so much!", 0.2, False),  # asks nothing: it would read as out of scope
        ("LK-448120", 0.1, False),
        ("how do I return this", float("nan"), False),  # a spoilt score: never stored
    ],
)
def test_only_questions_decided_on_confidence_tell_the_traffic_share(
    text: str, confidence: float, observed: bool
) -> None:
    traffic = Confidences()
    responder = Responder(
        retriever=FixedRetriever(_retrieval(confidence)), config=CONFIG, traffic=traffic
    )
    decision = responder.respond(text)
    assert traffic.seen == [], "deciding alone tells nothing: a preview or a retry must not count"
    noted = responder.noted(decision, text)  # what the turn stores with itself
    assert noted == (NotedQuestion(confidence, 0.7) if observed else None)
    assert traffic.seen == []
    responder.note(decision, text)
    assert traffic.seen == ([confidence] if observed else [])


def test_the_learned_confidence_reads_coverage_itself_and_tells_no_traffic_share() -> None:
    """Under the confidence learned across deployments the article's words are one of its
    features, not a second gate, and its scale is not calibration's: no traffic noting."""
    learned = replace(_retrieval(0.95), uncovered=0.8, learned=True)
    assert decide(learned, Signals(), CONFIG).action == "answer"
    traffic = Confidences()
    responder = Responder(retriever=FixedRetriever(learned), config=CONFIG, traffic=traffic)
    decision = responder.respond("how do I return this")
    assert responder.noted(decision, "how do I return this") is None
    unsure = replace(_retrieval(0.3), learned=True)
    assert decide(unsure, Signals(), CONFIG).reasons == (EscalationReason.LOW_CONFIDENCE,)


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("can I talk to a real person please", (EscalationReason.HUMAN_REQUEST,)),
        (
            "can a person check why my refund for order 44120 has not arrived?",
            (EscalationReason.HUMAN_REQUEST, EscalationReason.LOW_CONFIDENCE),
        ),
    ],
)
def test_a_bare_request_for_a_person_is_not_also_low_confidence(
    text: str, reasons: tuple[EscalationReason, ...]
) -> None:
    """Asking only for a person, the customer asked nothing the bot was unsure of; asking
    something as well, the bot's doubt about it is worth showing."""
    responder = Responder(retriever=FixedRetriever(_retrieval(0.1)), config=CONFIG)
    decision = responder.respond(text)
    assert decision.action == "escalate" and decision.reasons == reasons


@pytest.mark.parametrize(
    "order", [["cancellation", "bereavement"], ["bereavement", "cancellation"]]
)
def test_a_customers_life_comes_first_on_the_card_whatever_the_settings_order(
    order: list[str],
) -> None:
    config = PolicyConfig(topics=compile_topics(DEFAULT_SENSITIVE_TOPICS, order))
    texts = ["My dad passed away in May, how do I close his account?", "order LK-20418"]
    assert conversation_topics(texts, config, ["fraud"]) == ("bereavement", "cancellation", "fraud")

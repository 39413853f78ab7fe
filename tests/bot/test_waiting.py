"""A customer waiting for a person is never left in silence: every message gets a reply with
their place in the queue, the card keeps up with what they say, they can close the wait, the
queue is ordered by need, and an escalation nobody picks up is announced again. On a real
SQLite store and the sample knowledge base."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bot import wording
from bot.conversation import ActionKind, AgentAction, EscalationStatus, Kind, State
from bot.events import AGENTS
from integrations.composition import Services
from tests.bot.test_engine import escalated, say


def desk(kind: ActionKind, agent: str = "Alice") -> AgentAction:
    return AgentAction(kind, agent, "desk")


async def replies_after(services: Services, conversation_id: str, text: str) -> list[str]:
    before = await services.store.messages(conversation_id)
    await say(services.engine, conversation_id, text)
    after = await services.store.messages(conversation_id)
    return [m.text for m in after[len(before) + 1 :]]


async def test_the_escalation_notice_gives_a_place_in_the_queue(services: Services) -> None:
    conversation_id, _ = await escalated(services, "I need to talk to a person")
    [notice] = [
        m for m in await services.store.messages(conversation_id) if m.kind.value == "escalated"
    ]
    assert "You're next in the queue" in notice.text and "minute" in notice.text
    second_id, _ = await escalated(services, "Could I talk to someone from your team, please?")
    [second] = [m for m in await services.store.messages(second_id) if m.kind.value == "escalated"]
    assert "number 2 in the queue" in second.text


async def test_an_angry_request_for_a_person_is_acknowledged_and_the_card_changes(
    services: Services,
) -> None:
    conversation_id, first = await escalated(
        services, "What is the airspeed velocity of an unladen swallow?"
    )
    assert first.reasons == ("low_confidence",) and first.summary.sentiment != "negative"
    replies = await replies_after(
        services,
        conversation_id,
        "This is ridiculous!!! I've asked TWICE. Can I speak to an actual human being please",
    )
    assert len(replies) == 1
    assert "A person from our team will take over" in replies[0]
    assert "in the queue" in replies[0]
    card = await services.engine.card(first.id)
    assert {"human_request", "frustration"} <= set(card.reasons)
    assert card.reasons[0] == "low_confidence", "the first reason stays"
    assert card.summary.sentiment == "negative" and card.summary.trend == "rising"
    assert "actual human being" in card.transcript[-2].text
    assert card.priority_label in ("high", "urgent") and card.queue_position == 1


async def test_a_legal_threat_while_waiting_makes_the_case_sensitive(services: Services) -> None:
    conversation_id, first = await escalated(services, "I need to talk to a person")
    await say(services.engine, conversation_id, "If this is not fixed I will call my lawyer.")
    card = await services.engine.card(first.id)
    assert "sensitive" in card.reasons


async def test_never_mind_closes_the_wait_and_the_card_says_so(services: Services) -> None:
    conversation_id, first = await escalated(services, "I need to talk to a person")
    async with services.bus.subscribe(AGENTS) as events:
        replies = await replies_after(services, conversation_id, "Never mind, I sorted it.")
        event = await anext(events)
    assert replies == [wording.WAIT_CLOSED]
    closed = await services.store.escalation(first.id)
    assert closed is not None and closed.status is EscalationStatus.RESOLVED
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and conversation.state is State.RESOLVED
    card = await services.engine.card(first.id)
    assert card.closed_by == "customer" and card.actions == ()
    assert event["type"] == "customer_closed"
    late = await services.engine.act(first.id, desk(ActionKind.APPROVE))
    assert late.outcome == "refused", "nothing reaches a customer who closed the wait"


async def test_a_negated_never_mind_does_not_close(services: Services) -> None:
    conversation_id, first = await escalated(services, "I need to talk to a person")
    await say(services.engine, conversation_id, "I still haven't sorted it out")
    still = await services.store.escalation(first.id)
    assert still is not None and still.status is EscalationStatus.OPEN


async def test_the_queue_is_ordered_by_need_then_age(services: Services) -> None:
    start = datetime.now(UTC)
    services.engine.clock = lambda: start
    _, calm = await escalated(services, "What is the airspeed velocity of an unladen swallow?")
    angry_text = "This is the THIRD time!!! Useless!! I will take legal action, get me a person"
    _, angry = await escalated(services, angry_text)
    assert (await services.engine.card(angry.id)).queue_position == 1, "need first"
    assert (await services.engine.card(calm.id)).queue_position == 2
    # A case that has waited long enough goes ahead of a fresh urgent one.
    later = start + timedelta(minutes=50)
    services.engine.clock = lambda: later
    _, fresh = await escalated(services, angry_text)
    assert (await services.engine.card(calm.id)).queue_position == 2
    assert (await services.engine.card(fresh.id)).queue_position == 3
    card = await services.engine.card(calm.id)
    assert card.wait_minutes == 50 and card.to_json()["waiting_since"] == start.isoformat()


async def test_the_expected_wait_comes_from_recent_pick_ups(services: Services) -> None:
    for _ in range(4):
        _, picked = await escalated(services, "I need to talk to a person")
        await services.engine.act(picked.id, desk(ActionKind.TAKE_OVER))
    # Four pick-ups in the last hour, each within seconds: the live queue says one person
    # ahead takes about 15 minutes (4 an hour), not the configured 5.
    conversation_id, _ = await escalated(services, "Can I speak to a real person please?")
    [notice] = [
        m for m in await services.store.messages(conversation_id) if m.kind is Kind.ESCALATED
    ]
    assert "about 15 minutes" in notice.text


def test_a_long_wait_is_told_in_hours_not_hundreds_of_minutes() -> None:
    assert "about 15 minutes" in wording.wait_notice(2, 15)
    assert "about 1 minute." in wording.wait_notice(1, 1)
    assert "about an hour" in wording.wait_notice(5, 70)
    notice = wording.still_waiting(29, 435, upset=False, asked_for_person=False)
    assert "about 7 hours" in notice and "435" not in notice


async def test_an_escalation_nobody_picks_up_is_announced_again_once_per_round(
    services: Services,
) -> None:
    _, waiting = await escalated(services, "I need to talk to a person")
    _, taken = await escalated(services, "Can I speak to a real person please?")
    await services.engine.act(taken.id, desk(ActionKind.TAKE_OVER))
    assert await services.engine.reannounce_due() == 0, "nobody waited long enough yet"
    later = datetime.now(UTC) + timedelta(minutes=11)
    services.engine.clock = lambda: later
    async with services.bus.subscribe(AGENTS) as events:
        assert await services.engine.reannounce_due() == 1
        event = await anext(events)
    assert (event["type"], event["escalation_id"], event["round"]) == ("reannounce", waiting.id, 1)
    assert await services.engine.reannounce_due() == 0, "each round is announced once"
    metrics = services.metrics.render().decode()  # type: ignore[attr-defined]
    assert "tandem_escalations_reannounced_total 1.0" in metrics


async def test_hand_back_answers_the_question_the_customer_was_waiting_on(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(services, "I need to talk to a person")
    await services.engine.act(escalation.id, desk(ActionKind.TAKE_OVER))
    await say(services.engine, conversation_id, "How long do refunds take?")
    await services.engine.act(escalation.id, desk(ActionKind.HAND_BACK))
    messages = await services.store.messages(conversation_id)
    assert [m.kind.value for m in messages[-2:]] == ["handed_back", "answer"]
    assert "3 working days" in messages[-1].text
    stored = await services.store.latest_answer(conversation_id)
    assert stored is not None, "an answer after a hand-back is stored, to be judged like any"
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and stored.article_id == conversation.last_answer_article


async def test_hand_back_answers_the_question_not_the_details_given_to_the_agent(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(services, "I need to talk to a person")
    await services.engine.act(escalation.id, desk(ActionKind.TAKE_OVER))
    await services.engine.act(
        escalation.id, AgentAction(ActionKind.SEND, "Alice", "desk", "Which dates and amounts?")
    )
    await say(services.engine, conversation_id, "sure, 12 nov £49.99, 14 nov £120 and 15 nov £15")
    await say(services.engine, conversation_id, "how long do refunds take btw?")
    await services.engine.act(escalation.id, desk(ActionKind.HAND_BACK))
    messages = await services.store.messages(conversation_id)
    assert [m.kind.value for m in messages[-2:]] == ["handed_back", "answer"]
    assert "3 working days" in messages[-1].text
    assert not any("follow up" in m.text for m in messages[-2:])


async def test_hand_back_with_a_question_the_bot_cannot_answer_promises_a_follow_up(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(services, "I need to talk to a person")
    await services.engine.act(escalation.id, desk(ActionKind.TAKE_OVER, "Bob"))
    await say(services.engine, conversation_id, "Can you engrave a poem on my oak table?")
    await services.engine.act(escalation.id, desk(ActionKind.HAND_BACK, "Bob"))
    messages = await services.store.messages(conversation_id, internal=True)
    assert "Bob will follow up" in messages[-2].text
    assert messages[-1].kind is Kind.NOTE and "engrave a poem" in messages[-1].text
    audit = await services.store.audit(conversation_id)
    assert audit[-1].action == "follow_up" and "engrave a poem" in audit[-1].detail


async def test_the_card_follows_the_goal_through_chit_chat_and_venting(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(
        services,
        "I'd like to return a lamp from order #LK-20211, it doesn't suit the room. "
        "Can a person help me with that?",
    )
    for text in (
        "ok thanks",
        "What are your customer service opening hours?",
        "This is taking ages!!!",
    ):
        await say(services.engine, conversation_id, text)
    card = await services.engine.card(escalation.id)
    assert "return" in card.summary.intent.lower(), card.summary.intent
    assert "lamp" in card.summary.goal
    assert "return" in card.articles[0].title.lower()
    assert "opening hours" not in card.draft.lower() and "LK-20211" in card.draft
    assert "sorry" in card.draft.lower(), "the customer vented: the draft apologises"


async def test_the_cards_sentiment_reads_the_conversation_not_one_turn(
    services: Services,
) -> None:
    conversation_id, first = await escalated(
        services, "Could I talk to someone about my order please?"
    )
    # Each reads mildly negative on its own (tests/knowledge); together they add up.
    await replies_after(
        services, conversation_id, "the refund was supposed to be in my account by now"
    )
    await replies_after(services, conversation_id, "the courier says they never got it")
    card = await services.engine.card(first.id)
    assert card.summary.sentiment == "negative"


async def test_a_customer_at_risk_who_says_never_mind_keeps_their_place(
    services: Services,
) -> None:
    conversation_id, first = await escalated(services, "I need to talk to a person")
    replies = await replies_after(services, conversation_id, "never mind, I want to end it all")
    assert replies and replies[0].startswith(wording.CRISIS)
    card = await services.engine.card(first.id)
    assert card.status == EscalationStatus.OPEN.value
    assert "Sensitive: crisis" in card.summary.key_facts and "crisis" in card.summary.topics


async def test_a_customer_at_risk_comes_first_in_the_queue(services: Services) -> None:
    _, angry = await escalated(
        services, "Third time asking!!! Useless!! I'm calling my lawyer, get me a person NOW"
    )
    _, at_risk = await escalated(services, "I can't cope anymore, I don't want to be here anymore")
    assert at_risk.created_at >= angry.created_at
    at_risk_card = await services.engine.card(at_risk.id)
    assert at_risk_card.queue_position == 1 and at_risk_card.priority_label == "urgent"


async def test_a_holding_agent_is_warned_when_the_customer_may_be_at_risk(
    services: Services,
) -> None:
    conversation_id, first = await escalated(services, "I need to talk to a person")
    done = await services.engine.act(first.id, desk(ActionKind.TAKE_OVER))
    assert done.outcome == "done"
    await say(services.engine, conversation_id, "honestly I want to end it all")
    internal = await services.store.messages(conversation_id, internal=True)
    assert [m.text for m in internal if m.kind is Kind.WARNING][-1] == wording.AT_RISK
    public = await services.store.messages(conversation_id)
    assert public[-1].kind is Kind.CUSTOMER, "the bot stays silent while an agent holds it"


async def test_a_topic_a_head_read_stays_on_the_card_when_the_customer_writes_again(
    services: Services,
) -> None:
    conversation_id, first = await escalated(services, "i think someone is using my account")
    assert "Sensitive: fraud" in first.summary.key_facts
    await say(services.engine, conversation_id, "it was about order LK-88213")
    card = await services.engine.card(first.id)
    assert card.summary.key_facts[:2] == ("Sensitive: fraud", "Order LK-88213")
    assert card.summary.topics == ("fraud",)


async def test_a_late_llm_refinement_keeps_a_topic_read_after_it_was_asked_for(
    services: Services,
) -> None:
    """A refinement built from an earlier context replaces the summary and draft, but not a
    sensitive topic the card shows now."""
    conversation_id, first = await escalated(services, "i think someone is using my account")
    before = await services.store.escalation(first.id)
    assert before is not None and before.summary.topics == ("fraud",)
    stale = replace(before.summary, topics=(), key_facts=("Order LK-1",))

    class Late:
        async def refine(self, context: object) -> object:
            return SimpleNamespace(summary=stale, draft="Hi from the LLM", warning="", by_llm=True)

    await services.engine._refine(Late(), first.id, None, before.draft_version)  # type: ignore[arg-type]
    after = await services.store.escalation(first.id)
    assert after is not None and after.draft == "Hi from the LLM"
    assert after.summary.topics == ("fraud",)
    assert after.summary.key_facts == ("Sensitive: fraud", "Order LK-1")

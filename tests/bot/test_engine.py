"""The conversation engine on a real SQLite store and the sample knowledge base: every state
transition, signal and agent action, idempotency, and a race between two agents."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pytest_mock import MockerFixture

from bot.conversation import (
    TRANSITIONS,
    ActionKind,
    AgentAction,
    Escalation,
    Kind,
    State,
    check_transition,
)
from bot.engine import AGENTS_TOPIC, ConversationEngine, customer_topic, utcnow
from bot.errors import IllegalTransition, InvalidAction, UnknownConversation
from integrations.composition import Services
from tests.conftest import eventually


async def say(engine: ConversationEngine, conversation_id: str, text: str) -> None:
    await engine.handle(await engine.receive(conversation_id, text))


async def kinds(services: Services, conversation_id: str, internal: bool = False) -> list[str]:
    messages = await services.store.messages(conversation_id, internal=internal)
    return [m.kind.value for m in messages]


async def escalated(services: Services, *texts: str) -> tuple[str, Escalation]:
    conversation, _ = await services.engine.start("web")
    for text in texts:
        await say(services.engine, conversation.id, text)
    escalation = await services.store.active_escalation(conversation.id)
    assert escalation is not None, "expected an escalation"
    return conversation.id, escalation


def action(kind: ActionKind, agent: str = "Alice", text: str | None = None) -> AgentAction:
    return AgentAction(kind, agent, "desk", text)


# -- the transition table ------------------------------------------------------------------------
@pytest.mark.parametrize("current", list(State))
@pytest.mark.parametrize("target", list(State))
def test_transition_table_is_enforced(current: State, target: State) -> None:
    if target in TRANSITIONS[current]:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"'{current.value}' cannot move"):
            check_transition(current, target)


# -- customers -----------------------------------------------------------------------------------
async def test_a_confident_answer_cites_its_source(services: Services) -> None:
    conversation, _ = await services.engine.start("web")
    await say(services.engine, conversation.id, "How long do refunds take?")
    messages = await services.store.messages(conversation.id)
    assert [m.kind for m in messages] == [Kind.CUSTOMER, Kind.ANSWER]
    assert "3 working days" in messages[1].text
    assert messages[1].sources[0].title == "When will I get my refund?"
    assert (await services.store.conversation(conversation.id)).state is State.BOT  # type: ignore[union-attr]


async def test_a_later_section_that_matched_is_read_after_the_articles_opening(
    services: Services,
) -> None:
    """ "Already dispatched" alone would tell a customer whose order has not shipped that it
    cannot be cancelled; the article's short opening says how to cancel."""
    conversation, _ = await services.engine.start("web")
    text = "can i cancel an order i placed an hour ago? it hasnt shipped"
    await say(services.engine, conversation.id, text)
    messages = await services.store.messages(conversation.id)
    [answer] = [m for m in messages if m.kind is Kind.ANSWER]
    assert "free of charge until they are dispatched" in answer.text
    assert "Cancel order" in answer.text and "**" not in answer.text


async def test_a_customer_token_is_checked_from_memory_after_the_first_read(
    services: Services, mocker: MockerFixture
) -> None:
    conversation, token = await services.engine.start("web")
    reads = mocker.spy(services.store, "secret_hash")
    assert await services.engine.verify(conversation.id, token)
    assert not await services.engine.verify(conversation.id, token + "x")
    assert await services.engine.exists(conversation.id)
    assert reads.call_count == 0  # remembered when the conversation started
    assert not await services.engine.exists("nope")
    assert reads.call_count == 1  # an unknown conversation is read, and not remembered
    with pytest.raises(UnknownConversation):
        await services.engine.receive("nope", "hello?")


@pytest.mark.parametrize(
    ("texts", "reason"),
    [
        (["Can I speak to a real person please?"], "human_request"),
        (["What is the airspeed velocity of an unladen swallow?"], "low_confidence"),
        (["I want to cancel my contract and speak to my lawyer"], "sensitive"),
        (
            [
                "How long do refunds take?",
                "This is the THIRD time I ask!!! Useless, ridiculous service!!",
            ],
            "frustration",
        ),
        (["How long do refunds take?", "That didn't answer my question"], "repeated_failure"),
        (["How long do refunds take?"] * 3, "repeated_failure"),
    ],
)
async def test_signals_over_the_conversation_escalate(
    services: Services, texts: list[str], reason: str
) -> None:
    conversation_id, escalation = await escalated(services, *texts)
    assert reason in escalation.reasons
    assert (await services.store.conversation(conversation_id)).state is State.ESCALATED  # type: ignore[union-attr]
    assert (await kinds(services, conversation_id))[-1] == "escalated"


async def test_the_card_carries_summary_facts_and_a_grounded_draft(services: Services) -> None:
    _, escalation = await escalated(
        services,
        "Where is my order #LK-48213? I ordered a week ago, email jo.bloggs@example.com",
        "I want a human now, this is ridiculous!!",
    )
    card = (await services.engine.card(escalation.id)).to_json()
    summary = card["summary"]
    assert "Order LK-48213" in summary["key_facts"]
    assert "Email j***@example.com" in summary["key_facts"], "emails are masked by default"
    assert "jo.bloggs@example.com" not in str(card["transcript"])
    assert summary["sentiment"] == "negative" and summary["trend"] == "rising"
    assert "Where is my order" in summary["goal"]
    assert set(card["reasons"]) >= {"human_request", "frustration"}
    assert card["articles"] and card["draft"].startswith("Hi, I'm sorry")
    assert "LK-48213" in card["draft"], "the draft uses the customer's own facts"
    assert card["actions"][:3] == ["approve", "send", "take_over"]


async def test_a_routine_question_while_waiting_is_answered_and_the_card_stays_open(
    services: Services,
) -> None:
    conversation_id, first = await escalated(services, "I need to talk to a person")
    await say(services.engine, conversation_id, "How long do refunds take?")
    messages = await services.store.messages(conversation_id)
    assert [m.kind.value for m in messages] == [
        "customer",
        "escalated",
        "customer",
        "answer",
        "waiting",
    ]
    assert "3 working days" in messages[3].text
    assert messages[3].sources[0].title == "When will I get my refund?"
    assert "still reply" in messages[4].text
    updated = await services.store.escalation(first.id)
    assert updated is not None and updated.status.value == "open"
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and conversation.state is State.ESCALATED
    stored = await services.store.latest_answer(conversation_id)
    assert stored is not None and stored.verdict is None, "an answer while waiting is stored"
    assert stored.confidence > 0 and stored.article_id != ""


async def test_only_questions_in_the_bots_hands_tell_the_traffic_share(
    services: Services,
) -> None:
    """A question the bot decided on confidence counts once; one a signal decided does not,
    nor does anything the customer writes while waiting for an agent (their order number, a
    follow-up), which would read as out of scope."""
    window = services.knowledge_base.traffic
    before = len(window)
    conversation, _ = await services.engine.start("web")
    await say(services.engine, conversation.id, "How long do refunds take?")
    assert len(window) == before + 1
    await say(services.engine, conversation.id, "ok great, thanks!")
    assert len(window) == before + 1, "thanks asks nothing"
    await say(services.engine, conversation.id, "I need to talk to a person")
    assert len(window) == before + 1
    await say(services.engine, conversation.id, "my order number is LK-448120")
    await say(services.engine, conversation.id, "How long do refunds take?")
    assert len(window) == before + 1
    # Stored with its turn, for every replica's window.
    calibrated = services.knowledge_base.calibrated_threshold
    assert len(await services.learning.noted_confidences(10, calibrated, 0.0)) == 1


# -- agents --------------------------------------------------------------------------------------
async def test_approve_sends_the_draft_once_and_returns_to_the_bot(services: Services) -> None:
    conversation_id, escalation = await escalated(
        services, "I want a person: how long do refunds take?"
    )
    async with services.bus.subscribe(customer_topic(conversation_id)) as events:
        first, second = await asyncio.gather(
            services.engine.act(escalation.id, action(ActionKind.APPROVE)),
            services.engine.act(escalation.id, action(ActionKind.APPROVE)),
        )
        received = await asyncio.wait_for(anext(events), 1)
    assert sorted([first.outcome, second.outcome]) == ["done", "duplicate"]
    assert received["type"] == "agent_message" and received["text"] == escalation.draft
    assert (await kinds(services, conversation_id)).count("agent_message") == 1
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and conversation.state is State.BOT
    retry = await services.engine.act(escalation.id, action(ActionKind.APPROVE))
    assert retry.outcome == "duplicate"


async def test_a_repeated_send_without_a_key_or_version_is_one_send(services: Services) -> None:
    """An API client that gives neither: the first send answered the draft and moved its
    version on, so only the transcript tells the repeat from a second reply."""
    conversation_id, escalation = await escalated(services, "I want a human")
    assert (
        await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    ).outcome == "done"
    reply = "Your refund went out this morning."
    first = await services.engine.act(escalation.id, action(ActionKind.SEND, text=reply))
    again = await services.engine.act(escalation.id, action(ActionKind.SEND, text=reply))
    assert (first.outcome, again.outcome) == ("done", "duplicate")
    assert [m.text for m in await services.store.messages(conversation_id)].count(reply) == 1


async def test_an_older_cards_buttons_act_on_the_escalation_that_waits_now(
    services: Services,
) -> None:
    """Card 1 was answered, then the customer escalated again (card 2). A take-over clicked on
    card 1 claims the conversation with card 2's escalation, which would otherwise wait on,
    unclaimed, at the head of the queue; card 1's stale draft is not sent again."""
    conversation_id, first = await escalated(services, "I want a person: how long do refunds take?")
    assert (await services.engine.act(first.id, action(ActionKind.APPROVE))).outcome == "done"
    await say(services.engine, conversation_id, "Can a person look at order LK-48213 please?")
    second = await services.store.active_escalation(conversation_id)
    assert second is not None and second.id != first.id

    stale = await services.engine.act(first.id, action(ActionKind.APPROVE, "Bob"))
    assert stale.outcome == "refused" and "newer card" in stale.message
    assert (await kinds(services, conversation_id)).count("agent_message") == 1

    async with services.bus.subscribe(AGENTS_TOPIC) as events:
        took = await services.engine.act(first.id, action(ActionKind.TAKE_OVER, "Bob"))
        seen = [await asyncio.wait_for(anext(events), 1) for _ in range(2)]
    assert took.outcome == "done" and took.escalation is not None
    assert took.escalation.id == second.id and took.escalation.holder == "Bob"
    assert [(e["type"], e["escalation_id"]) for e in seen] == [
        ("take_over", second.id),
        ("superseded", first.id),  # card 1 redraws
    ]
    assert (await services.store.active_escalation(conversation_id)).status.value == "claimed"  # type: ignore[union-attr]
    old_card = await services.engine.card(first.id)
    assert old_card.actions == ("note",), "the rest is on the newer card"
    for kind in (ActionKind.SEND, ActionKind.RESOLVE, ActionKind.HAND_BACK):
        refused = await services.engine.act(first.id, action(kind, "Bob", text="Hello again"))
        assert refused.outcome == "refused" and "newer card" in refused.message, kind
    assert (await services.store.conversation(conversation_id)).state is State.AGENT  # type: ignore[union-attr]
    assert (await services.store.escalation(first.id)).status.value == "answered"  # type: ignore[union-attr]


async def test_an_edited_reply_is_sent_and_becomes_a_suggestion(services: Services) -> None:
    conversation_id, escalation = await escalated(
        services, "I want a person: do you deliver to Mars?"
    )
    edited = "We don't ship to Mars yet, but gift cards work worldwide."
    result = await services.engine.act(escalation.id, action(ActionKind.SEND, text=edited))
    assert result.outcome == "done"
    messages = await services.store.messages(conversation_id)
    assert messages[-1].text == edited and messages[-1].author == "Alice"
    [suggestion] = await services.store.suggestions()
    assert suggestion.question == "do you deliver to Mars?", "without the ask for a person"
    assert suggestion.answer == edited, "kept for review, never ingested automatically"
    again = await services.engine.act(escalation.id, action(ActionKind.SEND, text=edited))
    assert again.outcome == "duplicate"


async def test_take_over_silences_the_bot_and_assists_the_agent(services: Services) -> None:
    conversation_id, escalation = await escalated(services, "Let me speak to an agent")
    assert (
        await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    ).outcome == "done"
    await say(services.engine, conversation_id, "How long do refunds take?")
    await say(services.engine, conversation_id, "Still nothing?? This is RIDICULOUS, useless!!")
    public = await kinds(services, conversation_id)
    assert public == ["customer", "escalated", "agent_joined", "customer", "customer"]
    internal = await kinds(services, conversation_id, internal=True)
    assert "suggestion" in internal and "warning" in internal
    reply = await services.engine.act(escalation.id, action(ActionKind.SEND, text="On it!"))
    assert reply.outcome == "done"
    refused = await services.engine.act(escalation.id, action(ActionKind.SEND, "Bob", "Hi"))
    assert refused.outcome == "refused" and refused.holder == "Alice"


async def test_a_holding_agent_is_warned_when_mildly_negative_turns_add_up(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(
        services, "Could I talk to someone about my order please?"
    )
    await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    # Each reads mildly negative on its own, under the threshold (tests/knowledge).
    await say(
        services.engine, conversation_id, "the refund was supposed to be in my account by now"
    )
    assert "warning" not in await kinds(services, conversation_id, internal=True)
    await say(services.engine, conversation_id, "the courier says they never got it")
    internal = await kinds(services, conversation_id, internal=True)
    assert internal.count("warning") == 1, "two such turns add up over the conversation"
    await say(services.engine, conversation_id, "ok thanks, I'll wait for your email")
    assert (await kinds(services, conversation_id, internal=True)).count("warning") == 1


async def test_two_agents_race_to_take_over_and_one_wins(services: Services) -> None:
    _, escalation = await escalated(services, "I want a human")
    results = await asyncio.gather(
        *(
            services.engine.act(escalation.id, action(ActionKind.TAKE_OVER, name))
            for name in ("Alice", "Bob", "Carol")
        )
    )
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["done", "refused", "refused"]
    winner = next(r for r in results if r.outcome == "done")
    holder = (await services.store.conversation(escalation.conversation_id)).holder  # type: ignore[union-attr]
    assert all(r.holder == holder for r in results if r.outcome == "refused")
    assert winner.escalation is not None and winner.escalation.holder == holder


async def test_hand_back_then_resolve_then_reopen(services: Services) -> None:
    conversation_id, escalation = await escalated(services, "I want a human")
    await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    hand_back = await services.engine.act(escalation.id, action(ActionKind.HAND_BACK))
    assert hand_back.outcome == "done"
    await say(services.engine, conversation_id, "How long do refunds take?")
    assert (await kinds(services, conversation_id))[-1] == "answer", "the bot answers again"
    assert (await services.engine.act(escalation.id, action(ActionKind.RESOLVE))).outcome == "done"
    assert (await services.engine.act(escalation.id, action(ActionKind.RESOLVE))).outcome == (
        "duplicate"
    )
    await say(services.engine, conversation_id, "How long do refunds take?")
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and conversation.state is State.BOT
    history = [
        (h.actor, h.action, h.from_state, h.to_state)
        for h in await services.store.audit(conversation_id)
    ]
    assert history == [
        ("bot", "escalate", "bot", "escalated"),
        ("Alice", "take_over", "escalated", "agent"),
        ("Alice", "hand_back", "agent", "bot"),
        ("Alice", "resolve", "bot", "resolved"),
        ("customer", "reopen", "resolved", "bot"),
    ]
    assert all(h.channel in ("desk", "bot") for h in await services.store.audit(conversation_id))


async def test_regenerate_makes_a_new_draft_once_per_click(services: Services) -> None:
    _, escalation = await escalated(services, "I want a person. How do refunds and returns work?")
    first, second = await asyncio.gather(
        services.engine.act(escalation.id, action(ActionKind.REGENERATE)),
        services.engine.act(escalation.id, action(ActionKind.REGENERATE)),
    )
    assert sorted([first.outcome, second.outcome]) == ["done", "duplicate"]
    updated = await services.store.escalation(escalation.id)
    assert updated is not None and updated.draft_version == 2
    assert updated.draft != escalation.draft


async def test_bad_actions_are_refused_clearly(services: Services) -> None:
    _, escalation = await escalated(services, "I want a human")
    with pytest.raises(InvalidAction, match="no text"):
        await services.engine.act(escalation.id, action(ActionKind.SEND, text="   "))
    with pytest.raises(UnknownConversation, match="unknown escalation 'nope'"):
        await services.engine.act("nope", action(ActionKind.APPROVE))
    await services.engine.act(escalation.id, action(ActionKind.RESOLVE))
    late = await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    assert late.outcome == "refused"


async def test_a_message_left_unhandled_by_a_crash_is_handled_on_recovery(
    services: Services,
) -> None:
    conversation, _ = await services.engine.start("web")
    await services.engine.receive(conversation.id, "How long do refunds take?")  # then "crash"
    assert len(await services.store.unhandled_messages()) == 1
    services.engine.clock = lambda: utcnow() + timedelta(seconds=10)  # restarted a bit later
    assert await services.engine.recover() == 1
    assert await kinds(services, conversation.id) == ["customer", "answer"]
    assert await services.store.unhandled_messages() == []


async def test_send_draft_sends_what_the_agent_left_in_the_box(services: Services) -> None:
    conversation_id, escalation = await escalated(services, "I want a person: do you sell rugs?")
    typed = "Yes, we sell rugs in three sizes."
    result = await services.engine.act(escalation.id, action(ActionKind.APPROVE, text=typed))
    assert result.outcome == "done"
    assert (await services.store.messages(conversation_id))[-1].text == typed
    assert [s.answer for s in await services.store.suggestions()] == [typed], "an edit teaches"
    history = [h.action for h in await services.store.audit(conversation_id)]
    assert history[-1] == "send_edited"


async def test_thread_replies_reach_the_customer_only_from_the_holder(services: Services) -> None:
    conversation_id, escalation = await escalated(services, "Let me speak to an agent")
    engine = services.engine
    await engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    await engine.thread_reply(escalation.id, "Alice", "slack", "Hi, Alice here.", key="t1")
    await engine.thread_reply(escalation.id, "Alice", "slack", "NOTE: be gentle", key="t2")
    await engine.thread_reply(escalation.id, "Bob", "slack", "I can help", key="t3")
    again = await engine.thread_reply(escalation.id, "Alice", "slack", "Hi, Alice here.", key="t1")
    assert again.outcome == "duplicate"
    public = await services.store.messages(conversation_id)
    assert [m.text for m in public if m.kind is Kind.AGENT_MESSAGE] == ["Hi, Alice here."]
    internal = await services.store.messages(conversation_id, internal=True)
    assert [m.text for m in internal if m.kind is Kind.NOTE] == ["be gentle", "I can help"]


async def test_frustration_a_person_dealt_with_is_not_read_again_after_a_hand_back(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(
        services, "this is ridiculous, third time I'm asking where my refund is"
    )
    assert "frustration" in escalation.reasons
    await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    await services.engine.act(escalation.id, action(ActionKind.HAND_BACK))
    await say(services.engine, conversation_id, "one more thing, how long do refunds take?")
    assert (await kinds(services, conversation_id))[-1] == "answer", "a calm new question"
    # Frustration after the hand-back is read again.
    await say(services.engine, conversation_id, "that didn't help at all, this is useless")
    again = await services.store.active_escalation(conversation_id)
    assert again is not None and again.id != escalation.id
    assert "frustration" in again.reasons


async def test_the_question_left_pending_at_a_hand_back_is_answered_after_an_angry_start(
    services: Services,
) -> None:
    conversation_id, escalation = await escalated(
        services, "this is ridiculous, third time I'm asking where my refund is"
    )
    await services.engine.act(escalation.id, action(ActionKind.TAKE_OVER))
    await say(services.engine, conversation_id, "one more thing, how long do refunds take?")
    await services.engine.act(escalation.id, action(ActionKind.HAND_BACK))

    async def answered() -> bool:
        return (await kinds(services, conversation_id))[-1] == "answer"

    await eventually(answered, "the bot answering the pending question after the hand-back")

"""What the bot does with a message that is no question for the knowledge base: a greeting or
thanks gets a line of its own, and a customer writing back after an agent's reply goes back
to people, ahead of fresh cases, not to the knowledge base as a low-confidence question."""

from __future__ import annotations

from datetime import timedelta

from pytest_mock import MockerFixture

from bot import turns
from bot.conversation import ActionKind, Kind, State
from bot.engine import utcnow
from bot.queue import ordered
from bot.wording import GREETED, IDENTITY, WELCOME
from integrations.composition import Services
from tests.bot.test_engine import action, escalated, kinds, say

ASKS = "Sorry about that! Could you tell me your order number?"
TELLS = "I've checked: your parcel left our warehouse this morning."


async def replied(services: Services, agent_reply: str) -> tuple[str, str]:
    """A conversation escalated, then answered by an agent's edited draft: its id and the
    escalation's."""
    conversation_id, escalation = await escalated(services, "Can a person look at my parcel?")
    done = await services.engine.act(escalation.id, action(ActionKind.APPROVE, text=agent_reply))
    assert done.outcome == "done"
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and conversation.state is State.BOT
    return conversation_id, escalation.id


async def latest(services: Services, conversation_id: str) -> tuple[str, str]:
    message = (await services.store.messages(conversation_id))[-1]
    return message.kind.value, message.text


async def test_a_greeting_and_thanks_get_a_line_not_a_person(services: Services) -> None:
    window = services.knowledge_base.traffic
    before = len(window)
    conversation, _ = await services.engine.start("web")
    await say(services.engine, conversation.id, "hi")
    assert await latest(services, conversation.id) == ("courtesy", GREETED)
    await say(services.engine, conversation.id, "How long do refunds take?")
    assert (await latest(services, conversation.id))[0] == "answer"
    await say(services.engine, conversation.id, "great, thanks, that's all!")
    assert await latest(services, conversation.id) == ("courtesy", WELCOME)
    assert await services.store.active_escalation(conversation.id) is None
    assert len(window) == before + 1, "only the question tells the traffic share"


async def test_asking_whether_it_is_a_bot_gets_what_it_is_not_a_person(services: Services) -> None:
    conversation, _ = await services.engine.start("web")
    await say(services.engine, conversation.id, "hi, are you a bot?")
    assert await latest(services, conversation.id) == ("courtesy", IDENTITY)
    assert await services.store.active_escalation(conversation.id) is None


async def test_asking_whether_it_is_a_bot_after_an_agent_wrote_goes_to_people(
    services: Services,
) -> None:
    conversation_id, _ = await replied(services, TELLS)
    await say(services.engine, conversation_id, "are you a bot?")
    assert await latest(services, conversation_id) != ("courtesy", IDENTITY)
    assert await services.store.active_escalation(conversation_id) is not None


async def test_asking_whether_it_is_a_bot_while_waiting_says_what_it_is_and_where_they_stand(
    services: Services,
) -> None:
    conversation_id, _ = await escalated(services, "Can a person look at my parcel?")
    await say(services.engine, conversation_id, "are you a bot?")
    messages = await services.store.messages(conversation_id)
    assert [(m.kind.value, m.text) for m in messages[-2:-1]] == [("courtesy", IDENTITY)]
    assert messages[-1].kind.value == "waiting"


async def test_thanks_after_a_resolution_reopens_nothing(services: Services) -> None:
    conversation_id, escalation = await escalated(services, "Can a person look at my parcel?")
    await services.engine.act(escalation.id, action(ActionKind.RESOLVE))
    await say(services.engine, conversation_id, "thanks!")
    assert await latest(services, conversation_id) == ("courtesy", WELCOME)
    conversation = await services.store.conversation(conversation_id)
    assert conversation is not None and conversation.state is State.RESOLVED


async def test_a_rejection_after_thanks_still_rejects_the_answer(services: Services) -> None:
    """The bot's courtesy line is no answer: "that didn't help" after it is read against the
    answer before it, as a failed turn."""
    conversation, _ = await services.engine.start("web")
    await say(services.engine, conversation.id, "How long do refunds take?")
    await say(services.engine, conversation.id, "ok")
    await say(services.engine, conversation.id, "actually that didn't answer my question")
    stored = await services.store.conversation(conversation.id)
    assert stored is not None and stored.failed_turns == 1
    answer = await services.store.latest_answer(conversation.id)
    assert answer is not None and answer.verdict == "customer_rejected"


async def test_a_signal_in_a_short_message_still_escalates(services: Services) -> None:
    conversation, _ = await services.engine.start("web")
    for text in ("my order is late again", "this is the third time I ask", "ok."):
        await say(services.engine, conversation.id, text)
    escalation = await services.store.active_escalation(conversation.id)
    assert escalation is not None and "frustration" in escalation.reasons


async def test_an_answer_to_the_agents_question_goes_back_to_people(services: Services) -> None:
    conversation_id, first = await replied(services, ASKS)
    await say(services.engine, conversation_id, "It's LK-48213")
    follow_up = await services.store.active_escalation(conversation_id)
    assert follow_up is not None and follow_up.id != first
    assert follow_up.reasons == ("wrote_back",), "not a low-confidence question"
    kind, notice = await latest(services, conversation_id)
    assert kind == "escalated" and notice.startswith("Thanks, I've passed this to our team.")
    card = await services.engine.card(follow_up.id)
    assert [e.text for e in card.transcript][-3:-1] == [ASKS, "It's LK-48213"]
    assert card.wrote_back_to == "Alice", "the card names the agent who asked"
    assert card.reason_labels == ["Customer wrote back to Alice"]
    first_card = await services.engine.card(first)
    assert first_card.wrote_back_to is None, "a first escalation writes back to nobody"
    assert "It's LK-48213" not in await services.store.escalated_questions(["low_confidence"])


async def test_ok_answers_the_agent_but_thanks_ends_it(services: Services) -> None:
    yes_id, _ = await replied(services, "Shall I send you a replacement?")
    await say(services.engine, yes_id, "ok")
    assert (await latest(services, yes_id))[0] == "escalated", "'ok' said yes to the agent"
    done_id, first = await replied(services, "Shall I send you a replacement?")
    await say(services.engine, done_id, "no thanks")
    assert (await latest(services, done_id))[0] == "escalated", "'no thanks' answers the agent"
    thanks_id, first = await replied(services, ASKS)
    await say(services.engine, thanks_id, "thank you!")
    assert await latest(services, thanks_id) == ("courtesy", WELCOME)
    active = await services.store.active_escalation(thanks_id)
    assert active is not None and active.id == first, "no new card for thanks"


async def test_a_closing_in_own_words_after_an_agent_wrote_goes_to_the_agent(
    services: Services,
) -> None:
    """Thanks in the customer's own words may answer what the agent asked or told ("thanks,
    found it in my emails" to "could you tell me your order number?"): it goes to people, where
    a bare "thank you!" ends it (above)."""
    for agent_reply in (ASKS, TELLS):
        conversation_id, _ = await replied(services, agent_reply)
        await say(services.engine, conversation_id, "ah ok, found it in my emails, thanks!")
        assert (await latest(services, conversation_id))[0] == "escalated", agent_reply


async def test_a_question_the_kb_answers_goes_to_the_agent_who_asked(services: Services) -> None:
    """After the agent asked something, the reply answers them even when it also asks what
    the knowledge base knows; after an agent who only told something, the bot answers it."""
    asked_id, _ = await replied(services, ASKS)
    await say(services.engine, asked_id, "LK-48213. And how long do refunds take?")
    assert (await latest(services, asked_id))[0] == "escalated"
    told_id, _ = await replied(services, TELLS)
    await say(services.engine, told_id, "How long do refunds take?")
    assert (await latest(services, told_id))[0] == "answer"
    await say(services.engine, told_id, "the courier says it isn't there")
    follow_up = await services.store.active_escalation(told_id)
    assert follow_up is not None and "wrote_back" not in follow_up.reasons, (
        "after the bot's own answer it is the bot's question again"
    )


async def test_a_follow_up_outranks_a_fresh_case_and_expires(
    services: Services, mocker: MockerFixture
) -> None:
    conversation_id, _ = await replied(services, TELLS)
    await say(services.engine, conversation_id, "the courier says it isn't there")
    follow_up = await services.store.active_escalation(conversation_id)
    assert follow_up is not None and follow_up.reasons == ("wrote_back",)
    _, fresh = await escalated(services, "what is your opinion on the moon landing?")
    assert fresh.reasons == ("low_confidence",)
    assert [e.id for e in ordered([fresh, follow_up], utcnow())] == [follow_up.id, fresh.id]

    late_id, _ = await replied(services, TELLS)
    # Written after the window (it is read from when each message was stored).
    mocker.patch.object(turns, "WRITE_BACK_WINDOW", timedelta(0))
    await say(services.engine, late_id, "the courier says it isn't there")
    late = await services.store.active_escalation(late_id)
    assert late is not None and "wrote_back" not in late.reasons, "a day later: a new case"
    assert "escalated" in await kinds(services, late_id)
    assert Kind.COURTESY.value not in await kinds(services, late_id)


async def test_thanks_while_waiting_tells_where_they_stand_and_drafts_nothing(
    services: Services, mocker: MockerFixture
) -> None:
    conversation_id, escalation = await escalated(services, "Can a person look at my parcel?")
    draft = mocker.spy(services.engine.drafter, "draft")
    await say(services.engine, conversation_id, "ok thanks")
    kind, text = await latest(services, conversation_id)
    assert kind == "waiting" and "in the queue" in text
    assert draft.call_count == 0, "nothing new was asked: no draft (an LLM call) again"
    stored = await services.store.escalation(escalation.id)
    assert stored is not None and stored.draft_version == escalation.draft_version
    card = await services.engine.card(escalation.id)
    assert "ok thanks" in [entry.text for entry in card.transcript], "the card still shows it"

"""The action planners on their own: a situation in, a plan or a result out, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot import wording
from bot.actions import Plan, Situation, dedupe_key, needs_fresh_draft, plan_action
from bot.card import available_actions
from bot.conversation import (
    ActionKind,
    ActionResult,
    AgentAction,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    State,
    Summary,
)
from bot.errors import InvalidAction

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
CONVERSATION = Conversation("c1", "web", State.ESCALATED, 3, NOW)
ESCALATION = Escalation(
    id="e1",
    conversation_id="c1",
    status=EscalationStatus.OPEN,
    reasons=("low_confidence",),
    summary=Summary("refund", "a refund", "neutral", "steady"),
    articles=(),
    draft="Refunds take five days.",
    draft_version=1,
    created_at=NOW,
)
HISTORY = (Message(1, "c1", Kind.CUSTOMER, "Where is my refund?", NOW),)


def situation(kind: ActionKind, text: str | None = None, **changes: object) -> Situation:
    action = AgentAction(kind, "ana", "desk", text)
    base = Situation(
        CONVERSATION,
        ESCALATION,
        action,
        NOW,
        key=dedupe_key(ESCALATION, action),
        history=HISTORY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def planned(result: Plan | ActionResult) -> Plan:
    assert isinstance(result, Plan), result
    return result


def test_approve_sends_the_draft_and_hands_the_conversation_back() -> None:
    plan = planned(plan_action(situation(ActionKind.APPROVE)))
    assert plan.metric == "approve"
    assert plan.change.conversation.state is State.BOT
    assert plan.change.messages[0].text == ESCALATION.draft
    assert plan.change.escalation is not None
    assert plan.change.escalation.status is EscalationStatus.ANSWERED
    assert plan.change.escalation.first_action_at == NOW
    assert plan.change.dedupe_key == dedupe_key(
        ESCALATION, AgentAction(ActionKind.APPROVE, "ana", "desk")
    )


def test_an_edited_send_is_learned_from_the_open_question() -> None:
    plan = planned(plan_action(situation(ActionKind.SEND, "It is on its way.")))
    assert plan.metric == "edit"
    assert plan.change.suggestion == ("Where is my refund?", "It is on its way.", "ana")


def test_an_edit_is_paired_with_the_needs_it_answered_not_the_chatter() -> None:
    said = [
        "hello!!",
        "I'd like to return the standing desk from order 66120, the motor grinds.",
        "This is ridiculous!!! I've asked TWICE",
        "thanks",
    ]
    history = [Message(i, "c1", Kind.CUSTOMER, t, NOW) for i, t in enumerate(said, start=1)]
    history.insert(2, Message(9, "c1", Kind.ESCALATED, "A person will reply shortly.", NOW))
    plan = planned(
        plan_action(situation(ActionKind.SEND, "Collection is booked.", history=history))
    )
    assert plan.change.suggestion == (said[1], "Collection is booked.", "ana")
    only_talk = [Message(1, "c1", Kind.CUSTOMER, "hi, anyone there???", NOW)]
    chatter = planned(plan_action(situation(ActionKind.SEND, "Hello!", history=only_talk)))
    assert chatter.change.suggestion is None, "nothing was asked: nothing to learn"


@pytest.mark.parametrize(
    "reply",
    [
        "Hello, Alice here. How can I help?",
        "Hi there! Could you send me your order number?",
        "Let me check that for you, one moment.",
        "Thanks for waiting.",
        "Please hold while I check.",
        "I'll check with the warehouse and get back to you.",
        "I'm sorry to hear that.",
        "No problem at all, happy to help with that.",
        "Thanks for flagging this. Can you tell me the dates and amounts of the payments?",
        "I understand. Please confirm the last four digits of the card.",
        "I'm so sorry about that! Could you share a photo of the box?",
        "Please tell me the order number and I'll take it from there.",
        "Send me the tracking number and let me know when it was posted.",
    ],
)
def test_a_greeting_a_holding_line_or_a_question_back_is_not_learned(reply: str) -> None:
    plan = planned(plan_action(situation(ActionKind.SEND, reply)))
    assert plan.change.messages[0].text == reply, "sent all the same"
    assert plan.change.suggestion is None


@pytest.mark.parametrize(
    "reply",
    [
        "It's free.",
        "30 days.",
        "Unfortunately not.",
        "Да, мы доставляем в Канаду.",
        "Thanks for asking! Gift wrap is £3 and you can add it at checkout.",
        "Sorry, we don't ship to Ireland yet.",
        "Send us a photo of the damage and we'll replace it.",
    ],
)
def test_a_short_answer_is_learned(reply: str) -> None:
    plan = planned(plan_action(situation(ActionKind.SEND, reply)))
    assert plan.change.suggestion == ("Where is my refund?", reply, "ana")


def test_a_seen_key_sends_nothing() -> None:
    result = plan_action(situation(ActionKind.APPROVE, seen=True))
    assert isinstance(result, ActionResult) and result.outcome == "duplicate"


def test_a_send_needs_text_within_the_limit() -> None:
    with pytest.raises(InvalidAction):
        plan_action(situation(ActionKind.SEND, "  "))
    with pytest.raises(InvalidAction):
        plan_action(situation(ActionKind.SEND, "x" * 4001))


def test_another_agents_conversation_is_refused() -> None:
    held = replace(CONVERSATION, state=State.AGENT, holder="bo")
    for kind in (ActionKind.SEND, ActionKind.TAKE_OVER, ActionKind.RESOLVE):
        result = plan_action(situation(kind, "hi", conversation=held))
        assert isinstance(result, ActionResult)
        assert (result.outcome, result.holder) == ("refused", "bo")


def test_take_over_joins_and_a_repeat_is_a_duplicate() -> None:
    plan = planned(plan_action(situation(ActionKind.TAKE_OVER)))
    assert plan.change.conversation.holder == "ana"
    assert plan.change.messages[0].text == wording.JOINED.format(agent="ana")
    held = replace(CONVERSATION, state=State.AGENT, holder="ana")
    again = plan_action(situation(ActionKind.TAKE_OVER, conversation=held))
    assert isinstance(again, ActionResult) and again.outcome == "duplicate"


def test_resolve_and_hand_back_tell_the_customer() -> None:
    resolved = planned(plan_action(situation(ActionKind.RESOLVE)))
    assert resolved.change.messages[0].text == wording.RESOLVED
    back = planned(plan_action(situation(ActionKind.HAND_BACK)))
    assert back.change.messages[0].text == wording.HANDED_BACK
    assert back.change.conversation.state is State.BOT


def test_regenerate_puts_the_fresh_draft_on_the_card() -> None:
    assert needs_fresh_draft(ESCALATION, AgentAction(ActionKind.REGENERATE, "ana", "desk"))
    plan = planned(plan_action(situation(ActionKind.REGENERATE, fresh_draft="Another one.")))
    assert plan.change.escalation is not None
    assert (plan.change.escalation.draft, plan.change.escalation.draft_version) == (
        "Another one.",
        2,
    )
    closed = replace(ESCALATION, status=EscalationStatus.RESOLVED)
    assert not needs_fresh_draft(closed, AgentAction(ActionKind.REGENERATE, "ana", "desk"))
    result = plan_action(situation(ActionKind.REGENERATE, escalation=closed))
    assert isinstance(result, ActionResult) and result.outcome == "refused"


def test_a_reply_while_holding_answers_the_draft_so_it_cannot_be_sent_again() -> None:
    held = replace(CONVERSATION, state=State.AGENT, holder="ana")
    claimed = replace(ESCALATION, status=EscalationStatus.CLAIMED, holder="ana")
    plan = planned(
        plan_action(
            situation(
                ActionKind.SEND, "No gift wrap, sorry.", conversation=held, escalation=claimed
            )
        )
    )
    after = plan.change.escalation
    assert after is not None and after.status is EscalationStatus.CLAIMED
    assert (after.draft, after.draft_version) == ("", 2)
    assert "approve" not in available_actions(held, after)
    assert {"send", "regenerate", "hand_back"} <= set(available_actions(held, after))
    # A stale card's "Send draft" with its box emptied sends nothing.
    with pytest.raises(InvalidAction):
        plan_action(situation(ActionKind.APPROVE, conversation=held, escalation=after))
    # Before any reply, the holder may still approve the bot's draft.
    assert "approve" in available_actions(held, claimed)


def test_a_note_is_internal_and_needs_text() -> None:
    plan = planned(plan_action(situation(ActionKind.NOTE, "call back")))
    assert plan.change.messages[0].kind is Kind.NOTE
    with pytest.raises(InvalidAction):
        plan_action(situation(ActionKind.NOTE, ""))

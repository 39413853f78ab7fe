"""Agent actions as plans: what an approve, send, take-over, hand-back, resolve, regenerate or
note would write. Planning is pure: the engine reads a ``Situation`` (the state, the time,
whether the idempotency key was seen, the history, a fresh draft for a regenerate), a planner
turns it into a ``Plan`` or an ``ActionResult``, and the engine applies the plan in one
transaction; a stale plan is re-planned."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot import wording
from bot.conversation import (
    ACTIVE_STATUSES,
    ActionKind,
    ActionResult,
    AgentAction,
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    State,
    check_transition,
)
from bot.errors import InvalidAction
from bot.needs import question_of, tells_something
from bot.ports import Change, NewMessage

MAX_REPLY_CHARS = 4000
HISTORY = 200  # the newest messages the engine and actions read to decide and draft
NOTE_PREFIX = re.compile(r"^\s*note:\s*", re.IGNORECASE)
SENDS = frozenset({ActionKind.APPROVE, ActionKind.SEND})
"""The actions whose key the engine checks before planning (a repeat sends nothing)."""


@dataclass(frozen=True)
class Plan:
    """What an action writes, what the agent is told, and the metric it counts under."""

    change: Change
    message: str
    metric: str


@dataclass(frozen=True)
class Situation:
    """Everything a planner needs, read up front by the engine.

    Attributes:
        conversation: The conversation as just read.
        escalation: The escalation the action is on.
        action: The agent's action.
        now: The time of the action.
        key: The action's idempotency key (``dedupe_key``).
        seen: True when ``key`` was already used.
        history: The conversation's newest messages (``HISTORY``).
        fresh_draft: Another draft, for a regenerate on an active escalation.
    """

    conversation: Conversation
    escalation: Escalation
    action: AgentAction
    now: datetime
    key: str | None = None
    seen: bool = False
    history: Sequence[Message] = ()
    fresh_draft: str | None = None

    @property
    def held_by_other(self) -> bool:
        conversation = self.conversation
        return conversation.state is State.AGENT and conversation.holder != self.action.who

    def audit(self, name: str, to_state: State | None = None, detail: str = "") -> AuditEntry:
        return AuditEntry(
            self.conversation.id,
            self.action.agent,
            self.action.channel,
            name,
            self.now,
            self.escalation.id,
            self.conversation.state.value,
            to_state.value if to_state else None,
            detail,
        )

    def moved(self, to_state: State, holder: str | None) -> Conversation:
        check_transition(self.conversation.state, to_state)
        return replace(self.conversation, state=to_state, holder=holder, failed_turns=0)

    @property
    def first_action_at(self) -> datetime:
        return self.escalation.first_action_at or self.now


Planner = Callable[[Situation], "Plan | ActionResult"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _send_text(escalation: Escalation, action: AgentAction) -> str:
    # "Send draft" sends what is in the draft box: the text a channel passes, if any.
    typed = (action.text or "").strip()
    return typed if typed or action.kind is ActionKind.SEND else escalation.draft.strip()


def dedupe_key(escalation: Escalation, action: AgentAction) -> str | None:
    """The idempotency key of ``action``: the channel's, else one derived from what it does."""
    if action.key:
        return action.key
    if action.kind in SENDS:
        text = _send_text(escalation, action)
        version = escalation.draft_version if action.seen_version is None else action.seen_version
        return f"{action.kind.value}:{escalation.id}:{version}:" + _digest(text)
    if action.kind is ActionKind.REGENERATE:
        return f"regenerate:{escalation.id}:{escalation.draft_version}"
    return None


def needs_fresh_draft(escalation: Escalation, action: AgentAction) -> bool:
    """True when planning ``action`` needs another draft (a regenerate that can apply)."""
    return action.kind is ActionKind.REGENERATE and escalation.status in ACTIVE_STATUSES


def _refused(message: str, escalation: Escalation, holder: str | None = None) -> ActionResult:
    return ActionResult("refused", message, escalation, holder=holder)


def _holder_name(s: Situation) -> str | None:
    return s.escalation.holder or s.conversation.holder


def _held(s: Situation) -> ActionResult:
    holder = _holder_name(s)
    return _refused(wording.HOLDS.format(holder=holder), s.escalation, holder)


def plan_send(s: Situation) -> Plan | ActionResult:
    """Approve the draft, or send an agent's text."""
    conversation, escalation, state = s.conversation, s.escalation, s.conversation.state
    text = _send_text(escalation, s.action)
    if not text:
        raise InvalidAction(wording.NO_TEXT)
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidAction(wording.TOO_LONG.format(limit=MAX_REPLY_CHARS))
    unkeyed = s.action.key is None and s.action.seen_version is None
    if s.seen or (unkeyed and _just_sent(s.history, text)):
        return ActionResult("duplicate", wording.ALREADY_SENT, escalation)
    if s.held_by_other:
        return _held(s)
    draft, version = escalation.draft, escalation.draft_version
    if state is State.ESCALATED:
        new_conversation = s.moved(State.BOT, None)
        status = EscalationStatus.ANSWERED
    elif state is State.AGENT and escalation.status in ACTIVE_STATUSES:
        new_conversation, status = conversation, escalation.status
        # The conversation goes on, and the draft is answered: it leaves the card, so that
        # "Send draft" cannot send it again after the agent's own reply. The customer's next
        # message (or a regenerate) brings a new one.
        draft, version = "", version + 1
    else:
        return _refused(wording.NOT_WAITING, escalation)
    edited = text != escalation.draft.strip()
    suggestion = None
    if edited and tells_something(text):  # not a greeting, a holding line or a question back
        question = question_of(s.history)  # what the agent answered: no greetings, no venting
        suggestion = (question, text, s.action.agent) if question else None
    moved = new_conversation is not conversation
    return Plan(
        Change(
            new_conversation,
            escalation=replace(
                escalation,
                status=status,
                first_action_at=s.first_action_at,
                draft=draft,
                draft_version=version,
            ),
            messages=(
                NewMessage(Kind.AGENT_MESSAGE, text, author=s.action.agent, author_id=s.action.who),
            ),
            audit=(
                s.audit(
                    "send_edited" if edited else "approve",
                    new_conversation.state if moved else None,
                ),
            ),
            dedupe_key=s.key,
            suggestion=suggestion,
        ),
        wording.SENT,
        "edit" if edited else "approve",
    )


def _just_sent(history: Sequence[Message], text: str) -> bool:
    """The customer's latest view ends with this very reply: for a send with neither a key nor
    a version (an API client), a repeat whose first moved the draft on, not a second reply."""
    shown = [m for m in history if not m.internal]
    return bool(shown) and shown[-1].kind is Kind.AGENT_MESSAGE and shown[-1].text == text


def plan_take_over(s: Situation) -> Plan | ActionResult:
    """An agent takes the conversation; the bot stays silent."""
    conversation, escalation, agent = s.conversation, s.escalation, s.action.agent
    if conversation.state is State.AGENT:
        if conversation.holder == s.action.who:
            return ActionResult("duplicate", wording.YOU_HOLD_ALREADY, escalation, holder=agent)
        holder = _holder_name(s)
        return _refused(wording.ALREADY_TOOK_OVER.format(holder=holder), escalation, holder)
    if conversation.state is State.RESOLVED:
        return _refused(wording.CONVERSATION_RESOLVED, escalation)
    return Plan(
        Change(
            s.moved(State.AGENT, s.action.who),
            escalation=replace(
                escalation,
                status=EscalationStatus.CLAIMED,
                holder=agent,
                first_action_at=s.first_action_at,
            ),
            messages=(
                NewMessage(Kind.AGENT_JOINED, wording.JOINED.format(agent=agent), author=agent),
            ),
            audit=(s.audit("take_over", State.AGENT),),
            dedupe_key=s.key,
        ),
        wording.YOU_HOLD,
        "take_over",
    )


def plan_release(s: Situation) -> Plan | ActionResult:
    """Hand the conversation back to the bot, or resolve it."""
    escalation, state = s.escalation, s.conversation.state
    resolve = s.action.kind is ActionKind.RESOLVE
    target = State.RESOLVED if resolve else State.BOT
    if state is target:
        return ActionResult("duplicate", wording.ALREADY_DONE, escalation)
    if s.held_by_other:
        return _held(s)
    if state is State.RESOLVED:
        return _refused(wording.CONVERSATION_RESOLVED, escalation)
    status = EscalationStatus.RESOLVED if resolve else EscalationStatus.HANDED_BACK
    new_status = status if escalation.status in ACTIVE_STATUSES or resolve else escalation.status
    return Plan(
        Change(
            s.moved(target, None),
            escalation=replace(
                escalation, status=new_status, holder=None, first_action_at=s.first_action_at
            ),
            messages=(
                NewMessage(
                    Kind.RESOLVED if resolve else Kind.HANDED_BACK,
                    wording.RESOLVED if resolve else wording.HANDED_BACK,
                ),
            ),
            audit=(s.audit(s.action.kind.value, target),),
            dedupe_key=s.key,
        ),
        wording.DONE_RESOLVED if resolve else wording.DONE_HANDED_BACK,
        s.action.kind.value,
    )


def plan_regenerate(s: Situation) -> Plan | ActionResult:
    """Put the fresh draft on the card."""
    escalation = s.escalation
    if escalation.status not in ACTIVE_STATUSES:
        return _refused(wording.ESCALATION_CLOSED, escalation)
    if s.fresh_draft is None:
        raise ValueError("a regenerate is planned with a fresh draft")
    return Plan(
        Change(
            s.conversation,
            escalation=replace(
                escalation, draft=s.fresh_draft, draft_version=escalation.draft_version + 1
            ),
            audit=(s.audit("regenerate"),),
            dedupe_key=s.key,
        ),
        wording.NEW_DRAFT,
        "regenerate",
    )


def plan_note(s: Situation) -> Plan | ActionResult:
    """An internal note on the conversation."""
    text = (s.action.text or "").strip()
    if not text:
        raise InvalidAction(wording.NOTE_NEEDS_TEXT)
    return Plan(
        Change(
            s.conversation,
            messages=(NewMessage(Kind.NOTE, text[:MAX_REPLY_CHARS], author=s.action.agent),),
            audit=(s.audit("note"),),
            dedupe_key=s.key,
        ),
        wording.NOTE_ADDED,
        "note",
    )


PLANNERS: dict[ActionKind, Planner] = {
    ActionKind.APPROVE: plan_send,
    ActionKind.SEND: plan_send,
    ActionKind.TAKE_OVER: plan_take_over,
    ActionKind.HAND_BACK: plan_release,
    ActionKind.RESOLVE: plan_release,
    ActionKind.REGENERATE: plan_regenerate,
    ActionKind.NOTE: plan_note,
}


def plan_action(situation: Situation) -> Plan | ActionResult:
    """Plan the situation's action against the state read, or say why it cannot apply."""
    planner = PLANNERS.get(situation.action.kind)
    if planner is None:
        raise InvalidAction(f"unknown action '{situation.action.kind}'")
    return planner(situation)

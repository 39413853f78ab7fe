"""Agent actions as plans: what an approve, send, take-over, hand-back, resolve, regenerate or
note would write. The engine applies a plan in one transaction; a stale plan is re-planned."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

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
    State,
    check_transition,
)
from bot.drafting import context_of, open_question, reason_codes
from bot.errors import InvalidAction
from bot.ports import Change, NewMessage

if TYPE_CHECKING:
    from bot.engine import ConversationEngine

MAX_REPLY_CHARS = 4000
HISTORY = 200  # the newest messages the engine and actions read to decide and draft
JOINED = "{agent} from our team has joined the conversation."
NOTE_PREFIX = re.compile(r"^\s*note:\s*", re.IGNORECASE)
HANDED_BACK = "You're back with our virtual assistant. Ask me anything, or ask for a person."
RESOLVED = "This conversation is resolved. Thanks for getting in touch; write again any time."


@dataclass(frozen=True)
class Plan:
    change: Change
    message: str
    metric: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _refused(message: str, escalation: Escalation, holder: str | None = None) -> ActionResult:
    return ActionResult("refused", message, escalation, holder=holder)


async def plan_action(
    engine: ConversationEngine,
    conversation: Conversation,
    escalation: Escalation,
    action: AgentAction,
) -> Plan | ActionResult:
    """Plan ``action`` against the state just read, or say why it cannot apply."""
    state, agent = conversation.state, action.agent
    key = action.key
    now = engine.clock()
    first = escalation.first_action_at or now

    def audit(name: str, to_state: State | None = None, detail: str = "") -> AuditEntry:
        return AuditEntry(
            conversation.id,
            agent,
            action.channel,
            name,
            now,
            escalation.id,
            state.value,
            to_state.value if to_state else None,
            detail,
        )

    def moved(to_state: State, holder: str | None) -> Conversation:
        check_transition(state, to_state)
        return replace(conversation, state=to_state, holder=holder, failed_turns=0)

    held_by_other = state is State.AGENT and conversation.holder != agent
    match action.kind:
        case ActionKind.APPROVE | ActionKind.SEND:
            # "Send draft" sends what is in the draft box: the text a channel passes, if any.
            typed = (action.text or "").strip()
            text = typed if typed or action.kind is ActionKind.SEND else escalation.draft.strip()
            if not text:
                raise InvalidAction("there is no text to send")
            if len(text) > MAX_REPLY_CHARS:
                raise InvalidAction(f"a reply is limited to {MAX_REPLY_CHARS} characters")
            key = key or f"{action.kind.value}:{escalation.id}:{escalation.draft_version}:" + (
                _digest(text)
            )
            if await engine.store.has_key(key):
                return ActionResult(
                    "duplicate", "Already sent; nothing was sent twice.", escalation
                )
            if held_by_other:
                return _refused(
                    f"{conversation.holder} holds this conversation.",
                    escalation,
                    conversation.holder,
                )
            if state is State.ESCALATED:
                new_conversation = moved(State.BOT, None)
                status = EscalationStatus.ANSWERED
            elif state is State.AGENT and escalation.status in ACTIVE_STATUSES:
                new_conversation, status = conversation, escalation.status
            else:
                return _refused("This escalation is no longer waiting for a reply.", escalation)
            edited = text != escalation.draft.strip()
            suggestion = None
            if edited:
                asked = open_question(await engine.store.recent(conversation.id, HISTORY))
                question = " ".join(asked)[:2000]
                suggestion = (question, text, agent) if question else None
            return Plan(
                Change(
                    new_conversation,
                    escalation=replace(escalation, status=status, first_action_at=first),
                    messages=(NewMessage(Kind.AGENT_MESSAGE, text, author=agent),),
                    audit=(
                        audit(
                            "send_edited" if edited else "approve",
                            new_conversation.state
                            if new_conversation is not conversation
                            else None,
                        ),
                    ),
                    dedupe_key=key,
                    suggestion=suggestion,
                ),
                "Sent to the customer.",
                "edit" if edited else "approve",
            )
        case ActionKind.TAKE_OVER:
            if state is State.AGENT:
                if conversation.holder == agent:
                    return ActionResult(
                        "duplicate", "You already hold this conversation.", escalation, holder=agent
                    )
                return _refused(
                    f"{conversation.holder} already took over.", escalation, conversation.holder
                )
            if state is State.RESOLVED:
                return _refused("This conversation is resolved.", escalation)
            return Plan(
                Change(
                    moved(State.AGENT, agent),
                    escalation=replace(
                        escalation,
                        status=EscalationStatus.CLAIMED,
                        holder=agent,
                        first_action_at=first,
                    ),
                    messages=(
                        NewMessage(Kind.AGENT_JOINED, JOINED.format(agent=agent), author=agent),
                    ),
                    audit=(audit("take_over", State.AGENT),),
                    dedupe_key=key,
                ),
                "You hold the conversation; the bot stays silent.",
                "take_over",
            )
        case ActionKind.HAND_BACK | ActionKind.RESOLVE:
            resolve = action.kind is ActionKind.RESOLVE
            target = State.RESOLVED if resolve else State.BOT
            if state is target:
                return ActionResult("duplicate", "Already done.", escalation)
            if held_by_other:
                return _refused(
                    f"{conversation.holder} holds this conversation.",
                    escalation,
                    conversation.holder,
                )
            if state is State.RESOLVED:
                return _refused("This conversation is resolved.", escalation)
            status = EscalationStatus.RESOLVED if resolve else EscalationStatus.HANDED_BACK
            new_status = (
                status if escalation.status in ACTIVE_STATUSES or resolve else (escalation.status)
            )
            return Plan(
                Change(
                    moved(target, None),
                    escalation=replace(
                        escalation, status=new_status, holder=None, first_action_at=first
                    ),
                    messages=(
                        NewMessage(
                            Kind.RESOLVED if resolve else Kind.HANDED_BACK,
                            RESOLVED if resolve else HANDED_BACK,
                        ),
                    ),
                    audit=(audit(action.kind.value, target),),
                    dedupe_key=key,
                ),
                "Resolved." if resolve else "Handed back to the bot.",
                action.kind.value,
            )
        case ActionKind.REGENERATE:
            if escalation.status not in ACTIVE_STATUSES:
                return _refused("This escalation is closed.", escalation)
            key = key or f"regenerate:{escalation.id}:{escalation.draft_version}"
            draft = await _fresh_draft(engine, conversation, escalation)
            return Plan(
                Change(
                    conversation,
                    escalation=replace(
                        escalation, draft=draft, draft_version=escalation.draft_version + 1
                    ),
                    audit=(audit("regenerate"),),
                    dedupe_key=key,
                ),
                "A new draft is on the card.",
                "regenerate",
            )
        case ActionKind.NOTE:
            text = (action.text or "").strip()
            if not text:
                raise InvalidAction("a note needs text")
            return Plan(
                Change(
                    conversation,
                    messages=(NewMessage(Kind.NOTE, text[:MAX_REPLY_CHARS], author=agent),),
                    audit=(audit("note"),),
                    dedupe_key=key,
                ),
                "Note added (internal).",
                "note",
            )
    raise InvalidAction(f"unknown action '{action.kind}'")


async def _fresh_draft(
    engine: ConversationEngine, conversation: Conversation, escalation: Escalation
) -> str:
    """Another draft: the next usable article for the customer's latest words."""
    messages = await engine.store.recent(conversation.id, HISTORY)
    recent = " ".join([m.text for m in messages if m.kind is Kind.CUSTOMER][-3:])
    retrieval = await asyncio.to_thread(engine.responder.retriever.search, recent)
    context = context_of(
        messages, retrieval, reason_codes(escalation.reasons), variant=escalation.draft_version
    )
    return await engine.drafter.draft(context)

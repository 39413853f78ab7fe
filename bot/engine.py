"""The conversation engine: a customer's message in, an answer or an escalation out, and every
agent action through one code path whatever channel it came from."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot import wording
from bot.actions import (
    HISTORY,
    NOTE_PREFIX,
    SENDS,
    Situation,
    dedupe_key,
    needs_fresh_draft,
    plan_action,
)
from bot.card import EscalationCard, build_card
from bot.conversation import (
    ActionKind,
    ActionResult,
    AgentAction,
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    Source,
    State,
)
from bot.drafting import (
    DraftContext,
    Drafter,
    articles_of,
    context_of,
    passage_text,
    reason_codes,
)
from bot.errors import StoreConflict, UnknownConversation
from bot.events import AGENTS, CUSTOMERS, AgentEvent, CustomerEvent, customer_topic
from bot.metrics import Metrics, NullMetrics
from bot.model import Decision
from bot.policy import Responder, failure_loop
from bot.ports import Change, ConversationStore, EventBus, NewMessage
from bot.signals import NOT_HELPFUL

logger = logging.getLogger(__name__)
AGENTS_TOPIC = AGENTS  # kept for callers of the old names; new code imports ``bot.events``
CUSTOMERS_TOPIC = CUSTOMERS
MAX_RETRIES = 5
CONTEXT_TURNS = 20
TRANSCRIPT = 500  # messages a card shows (the newest)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EngineConfig:
    """Engine settings.

    Attributes:
        max_failed_turns: Unhelpful answers in a row before the bot escalates.
        frustration_threshold: Frustration at which live assist warns the agent.
        expected_wait_minutes: The wait quoted in the escalation notice.
        public_url: Base URL for desk links on cards.
        mask_personal_data: Mask emails and phone numbers on agent cards.
    """

    max_failed_turns: int = 2
    frustration_threshold: float = 0.5
    expected_wait_minutes: int = 5
    public_url: str = "http://127.0.0.1:8080"
    mask_personal_data: bool = True


class ConversationEngine:
    """Runs conversations. Keyword-only arguments:

    Args:
        store: Durable state.
        responder: The answer-or-escalate decision (shared with ``tandem eval``).
        drafter: Writes summaries and drafts.
        bus: Delivers events to customers and agents on every replica.
        config: Engine settings.
        metrics: Counters for ``/metrics``.
        clock: The time source (tests pass their own).
    """

    def __init__(
        self,
        *,
        store: ConversationStore,
        responder: Responder,
        drafter: Drafter,
        bus: EventBus,
        config: EngineConfig | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.responder = responder
        self.drafter = drafter
        self.bus = bus
        self.config = config or EngineConfig()
        self.metrics = metrics or NullMetrics()
        self.clock = clock
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- customers -----------------------------------------------------------------------------
    async def start(self, channel: str, customer: str | None = None) -> tuple[Conversation, str]:
        """Open a conversation; returns it and the customer's secret token."""
        token = secrets.token_urlsafe(24)
        conversation = await self.store.create_conversation(
            uuid.uuid4().hex, channel, hash_secret(token), customer
        )
        self.metrics.conversation_started(channel)
        return conversation, token

    async def verify(self, conversation_id: str, token: str) -> bool:
        """True when ``token`` is the conversation's customer token."""
        stored = await self.store.secret_hash(conversation_id)
        return stored is not None and secrets.compare_digest(stored, hash_secret(token))

    async def receive(self, conversation_id: str, text: str) -> Message:
        """Store a customer's message (before anyone acknowledges it). ``handle`` acts on it."""
        message = await self.store.add_customer_message(conversation_id, text)
        await self.publish_public(conversation_id, [message])
        return message

    async def recover(self) -> int:
        """Handle the messages a crash left stored but unhandled; returns how many."""
        pending = await self.store.unhandled_messages()
        for message in pending:
            await self.handle(message)
        return len(pending)

    async def handle(self, message: Message) -> None:
        """Answer, escalate, or assist the agent, depending on who owns the conversation."""
        async with self._locks[message.conversation_id]:
            for _ in range(MAX_RETRIES):
                try:
                    await self._handle_once(message)
                    return
                except StoreConflict:
                    logger.info(
                        "conversation changed meanwhile; retrying",
                        extra={"conversation": message.conversation_id},
                    )
            logger.error("gave up handling a message", extra={"message_id": message.id})

    async def _handle_once(self, message: Message) -> None:
        conversation = await self._conversation(message.conversation_id)
        history = await self.store.recent(conversation.id, HISTORY)
        earlier = [m for m in history if m.id < message.id]
        audit: list[AuditEntry] = []
        if conversation.state is State.RESOLVED:
            audit.append(self._audit(conversation, "customer", "reopen", State.BOT))
            conversation = replace(conversation, state=State.BOT)
        if conversation.state is State.BOT:
            await self._answer_or_escalate(conversation, message, earlier, audit)
        else:
            await self._update_escalation(conversation, message, earlier)

    async def _answer_or_escalate(
        self,
        conversation: Conversation,
        message: Message,
        earlier: list[Message],
        audit: list[AuditEntry],
    ) -> None:
        await self.bus.publish(customer_topic(conversation.id), CustomerEvent.typing().to_dict())
        customer_before = [m.text for m in earlier if m.kind is Kind.CUSTOMER]
        decision = await asyncio.to_thread(self.responder.respond, message.text, customer_before)
        last_reply = next((m for m in reversed(earlier) if m.kind is not Kind.CUSTOMER), None)
        decision, failed = failure_loop(
            decision,
            not_helpful=bool(NOT_HELPFUL.search(message.text)),
            after_answer=last_reply is not None and last_reply.kind is Kind.ANSWER,
            last_article=conversation.last_answer_article,
            failed_turns=conversation.failed_turns,
            max_failed_turns=self.config.max_failed_turns,
        )
        if decision.action == "answer" and decision.answer:
            answer = decision.answer
            updated = replace(
                conversation, failed_turns=failed, last_answer_article=answer.article_id
            )
            reply = NewMessage(
                Kind.ANSWER,
                passage_text(answer),
                sources=(Source(answer.title, answer.url),),
            )
            applied = await self.store.apply(
                Change(updated, messages=(reply,), audit=tuple(audit), handled=message.id)
            )
            self.metrics.answered()
            await self.publish_public(conversation.id, applied.messages)
            return
        await self._escalate(
            replace(conversation, failed_turns=failed), message, earlier, decision, audit
        )

    async def _escalate(
        self,
        conversation: Conversation,
        message: Message,
        earlier: list[Message],
        decision: Decision,
        audit: list[AuditEntry],
    ) -> None:
        reasons = tuple(r.value for r in decision.reasons)
        context = self._context([*earlier, message], decision)
        escalation = Escalation(
            id=uuid.uuid4().hex,
            conversation_id=conversation.id,
            status=EscalationStatus.OPEN,
            reasons=reasons,
            summary=await self.drafter.summarise(context),
            articles=articles_of(decision.retrieval),
            draft=await self.drafter.draft(context),
            draft_version=1,
            created_at=self.clock(),
        )
        waiting = await self.store.waiting_escalations()
        notice = NewMessage(
            Kind.ESCALATED, wording.wait_notice(self.config.expected_wait_minutes, waiting)
        )
        audit.append(
            self._audit(
                conversation,
                "bot",
                "escalate",
                State.ESCALATED,
                escalation_id=escalation.id,
                detail=",".join(reasons),
            )
        )
        applied = await self.store.apply(
            Change(
                replace(conversation, state=State.ESCALATED, holder=None),
                escalation=escalation,
                messages=(notice,),
                audit=tuple(audit),
                handled=message.id,
            )
        )
        self.metrics.escalated(reasons)
        logger.info("escalated", extra={"conversation": conversation.id, "reasons": reasons})
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents("opened", escalation)

    async def _update_escalation(
        self, conversation: Conversation, message: Message, earlier: list[Message]
    ) -> None:
        """While people own the conversation the bot stays silent: it refreshes the card and,
        for a holding agent, suggests knowledge and warns when frustration rises."""
        escalation = await self.store.active_escalation(conversation.id)
        decision = await asyncio.to_thread(self.responder.respond, message.text)
        if escalation is None:
            await self.store.apply(Change(conversation, handled=message.id))
            return
        context = self._context([*earlier, message], decision, tuple(escalation.reasons))
        updated = replace(
            escalation,
            summary=await self.drafter.summarise(context),
            articles=articles_of(decision.retrieval) or escalation.articles,
            draft=await self.drafter.draft(context),
            draft_version=escalation.draft_version + 1,
        )
        notes: list[NewMessage] = []
        if conversation.state is State.AGENT:
            notes.extend(self._assist(decision, context))
        applied = await self.store.apply(
            Change(conversation, escalation=updated, messages=tuple(notes), handled=message.id)
        )
        await self.publish_agents("message", updated, (message, *applied.messages))

    def _assist(self, decision: Decision, context: DraftContext) -> list[NewMessage]:
        notes = []
        best = decision.retrieval.best
        if best is not None:
            titles = ", ".join(m.title for m in decision.retrieval.matches[:3])
            notes.append(
                NewMessage(
                    Kind.SUGGESTION,
                    wording.suggested_articles(titles, decision.retrieval.confidence),
                    sources=tuple(Source(m.title, m.url) for m in decision.retrieval.matches[:3]),
                )
            )
        scores = context.frustration
        rising = len(scores) >= 2 and scores[-1] > scores[-2]
        if scores and scores[-1] >= self.config.frustration_threshold and rising:
            notes.append(
                NewMessage(
                    Kind.WARNING,
                    wording.frustration_rising(scores[-1]),
                )
            )
        return notes

    def _context(
        self, history: Sequence[Message], decision: Decision, reasons: tuple[str, ...] = ()
    ) -> DraftContext:
        return context_of(
            history,
            decision.retrieval,
            tuple(decision.reasons) or reason_codes(reasons),
            turns=CONTEXT_TURNS,
        )

    # -- agents --------------------------------------------------------------------------------
    async def act(self, escalation_id: str, action: AgentAction) -> ActionResult:
        """Apply one agent action. Idempotent: a repeat returns ``duplicate`` and sends nothing."""
        for _ in range(MAX_RETRIES):
            escalation = await self._escalation(escalation_id)
            conversation = await self._conversation(escalation.conversation_id)
            plan = plan_action(await self._situation(conversation, escalation, action))
            if isinstance(plan, ActionResult):
                return plan
            try:
                applied = await self.store.apply(plan.change)
            except StoreConflict:
                continue
            if not applied.applied:
                return ActionResult("duplicate", wording.NOTHING_TWICE, escalation)
            since = (self.clock() - escalation.created_at).total_seconds()
            self.metrics.agent_action(
                plan.metric, action.channel, since if escalation.first_action_at is None else None
            )
            new_escalation = plan.change.escalation or escalation
            await self.publish_public(conversation.id, applied.messages)
            await self.publish_agents(action.kind.value, new_escalation, applied.messages)
            return ActionResult("done", plan.message, new_escalation, sent=applied.messages)
        return ActionResult("refused", wording.BUSY)

    async def _situation(
        self, conversation: Conversation, escalation: Escalation, action: AgentAction
    ) -> Situation:
        """Read everything planning ``action`` needs, so the planners stay pure."""
        key = dedupe_key(escalation, action)
        seen = key is not None and action.kind in SENDS and await self.store.has_key(key)
        history = await self.store.recent(conversation.id, HISTORY)
        fresh_draft = None
        if needs_fresh_draft(escalation, action):
            fresh_draft = await self._fresh_draft(escalation, history)
        return Situation(
            conversation,
            escalation,
            action,
            self.clock(),
            key=key,
            seen=seen,
            history=history,
            fresh_draft=fresh_draft,
        )

    async def _fresh_draft(self, escalation: Escalation, history: Sequence[Message]) -> str:
        """Another draft: the next usable article for the customer's latest words."""
        recent = " ".join([m.text for m in history if m.kind is Kind.CUSTOMER][-3:])
        retrieval = await asyncio.to_thread(self.responder.retriever.search, recent)
        context = context_of(
            history, retrieval, reason_codes(escalation.reasons), variant=escalation.draft_version
        )
        return await self.drafter.draft(context)

    async def thread_reply(
        self, escalation_id: str, agent: str, channel: str, text: str, key: str
    ) -> ActionResult:
        """A reply under a card in an agent channel. It reaches the customer when its author
        holds the conversation; a reply starting with ``note:``, or anyone else's, is kept as an
        internal note."""
        escalation = await self._escalation(escalation_id)
        conversation = await self._conversation(escalation.conversation_id)
        holds = conversation.state is State.AGENT and conversation.holder == agent
        if holds and not NOTE_PREFIX.match(text):
            action = AgentAction(ActionKind.SEND, agent, channel, text, key)
        else:
            action = AgentAction(ActionKind.NOTE, agent, channel, NOTE_PREFIX.sub("", text), key)
        return await self.act(escalation_id, action)

    async def card(self, escalation_id: str) -> EscalationCard:
        """The escalation as a card, with the transcript and who did what."""
        escalation = await self._escalation(escalation_id)
        conversation = await self._conversation(escalation.conversation_id)
        return build_card(
            conversation,
            escalation,
            await self.store.recent(conversation.id, TRANSCRIPT, internal=True),
            await self.store.audit(conversation.id),
            public_url=self.config.public_url,
            mask_personal_data=self.config.mask_personal_data,
        )

    # -- plumbing ------------------------------------------------------------------------------
    def _audit(
        self,
        conversation: Conversation,
        actor: str,
        action: str,
        to_state: State | None = None,
        *,
        channel: str = "bot",
        escalation_id: str | None = None,
        detail: str = "",
    ) -> AuditEntry:
        return AuditEntry(
            conversation_id=conversation.id,
            actor=actor,
            channel=channel,
            action=action,
            at=self.clock(),
            escalation_id=escalation_id,
            from_state=conversation.state.value,
            to_state=to_state.value if to_state else None,
            detail=detail,
        )

    async def _conversation(self, conversation_id: str) -> Conversation:
        conversation = await self.store.conversation(conversation_id)
        if conversation is None:
            raise UnknownConversation("conversation", conversation_id)
        return conversation

    async def _escalation(self, escalation_id: str) -> Escalation:
        escalation = await self.store.escalation(escalation_id)
        if escalation is None:
            raise UnknownConversation("escalation", escalation_id)
        return escalation

    async def publish_public(self, conversation_id: str, messages: Sequence[Message]) -> None:
        for message in messages:
            if not message.internal:
                event = CustomerEvent.of(message)
                await self.bus.publish(customer_topic(conversation_id), event.to_dict())
                everyone = replace(event, conversation_id=conversation_id)
                await self.bus.publish(CUSTOMERS, everyone.to_dict())

    async def publish_agents(
        self, event: str, escalation: Escalation, messages: Sequence[Message] = ()
    ) -> None:
        typed = AgentEvent(
            event,
            escalation.id,
            escalation.conversation_id,
            escalation.status.value,
            tuple(m.id for m in messages),
        )
        await self.bus.publish(AGENTS, typed.to_dict())

    # -- for adapters --------------------------------------------------------------------------
    async def exists(self, conversation_id: str) -> bool:
        """True when the conversation exists (its customer token is stored)."""
        return await self.store.secret_hash(conversation_id) is not None

    async def decide(self, text: str) -> Decision:
        """The bot's decision for one question, statelessly (``/api/ask``, ``kb ask``)."""
        return await asyncio.to_thread(self.responder.respond, text)

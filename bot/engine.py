"""The conversation engine: a customer's message in, an answer or an escalation out, and every
agent action through one code path whatever channel it came from. The customer side lives in
``bot.turns`` (``bot.waiting`` while people own the conversation), drafting work in
``bot.drafts``, the shared plumbing in ``bot.engine_base``."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

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
    ACTIVE_STATUSES,
    ActionKind,
    ActionResult,
    AgentAction,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    State,
    customer_texts,
    since_people,
)
from bot.drafting import DraftContext, Refiner, context_of, reason_codes
from bot.drafts import QUEUE_LIMIT
from bot.engine_base import (
    AGENTS_TOPIC,
    CUSTOMERS_TOPIC,
    MAX_RETRIES,
    TRANSCRIPT,
    EngineConfig,
    hash_secret,
    utcnow,
)
from bot.errors import StoreConflict
from bot.events import REANNOUNCE, SUPERSEDED, customer_topic
from bot.model import Decision
from bot.needs import is_question, needs_to_look_up, open_needs
from bot.policy import conversation_topics
from bot.ports import Change, NewMessage
from bot.queue import waited_minutes
from bot.turns import CustomerTurns

__all__ = [
    "AGENTS_TOPIC",
    "CUSTOMERS_TOPIC",
    "ConversationEngine",
    "EngineConfig",
    "customer_topic",
    "hash_secret",
    "utcnow",
]
logger = logging.getLogger(__name__)


class ConversationEngine(CustomerTurns):
    """Runs conversations. Keyword-only arguments:

    Args:
        store: Durable state.
        responder: The answer-or-escalate decision (shared with ``tandem eval``).
        drafter: Writes summaries and drafts.
        bus: Delivers events to customers and agents on every replica.
        config: Engine settings.
        metrics: Counters for ``/metrics``.
        clock: The time source (tests pass their own).
        catalogue: Every knowledge article as ``(id, title)``, for the cards' tag choices.
    """

    # -- customers -----------------------------------------------------------------------------
    async def start(self, channel: str, customer: str | None = None) -> tuple[Conversation, str]:
        """Open a conversation; returns it and the customer's secret token."""
        token = secrets.token_urlsafe(24)
        conversation = await self.store.create_conversation(
            uuid.uuid4().hex, channel, hash_secret(token), customer
        )
        self._remember_secret(conversation.id, hash_secret(token))
        self.metrics.conversation_started(channel)
        return conversation, token

    async def verify(self, conversation_id: str, token: str) -> bool:
        """True when ``token`` is the conversation's customer token."""
        stored = await self.secret_hash(conversation_id)
        return stored is not None and secrets.compare_digest(stored, hash_secret(token))

    async def receive(self, conversation_id: str, text: str) -> Message:
        """Store a customer's message (before anyone acknowledges it). ``handle`` acts on it.

        The message is stored already leased to this replica for the claim grace (one write,
        not two): ``handle`` needs no claim of its own, and if this replica dies first any
        other replica's sweep takes the message once the grace is over, as for one never
        claimed."""
        until = self.clock() + timedelta(seconds=self.config.claim_grace_seconds)
        message = await self.store.add_customer_message(conversation_id, text, (self.owner, until))
        self._received[message.id] = until
        await self.publish_public(conversation_id, [message])
        return message

    async def recover(self, limit: int = 100) -> int:
        """Handle the messages nobody is handling: left by a crash or a replica that died (its
        lease ended), never claimed, or released after conflicts. Safe on every replica at any
        time, at start-up and periodically: each is claimed first, so a message a live replica
        holds is left to it. Returns how many this call handled."""
        now = self.clock()
        received_before = now - timedelta(seconds=self.config.claim_grace_seconds)
        handled = 0
        for message in await self.store.claimable_messages(now, received_before, limit):
            try:
                handled += await self.handle(message)
            except Exception:  # one failing message must not hold the others back
                logger.exception(
                    "handling a recovered message failed; retried when its lease ends",
                    extra={"message_id": message.id},
                )
        return handled

    # -- agents --------------------------------------------------------------------------------
    async def act(self, escalation_id: str, action: AgentAction) -> ActionResult:
        """Apply one agent action. Idempotent: a repeat returns ``duplicate`` and sends nothing."""
        for _ in range(MAX_RETRIES):
            clicked = await self._escalation(escalation_id)
            escalation = await self._current(clicked, action)
            if isinstance(escalation, ActionResult):
                await self.publish_agents(SUPERSEDED, clicked)  # its buttons were stale: redraw
                return escalation
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
            if clicked.id != escalation.id:  # the older card redraws with the conversation
                await self.publish_agents(SUPERSEDED, clicked)
            if action.kind is ActionKind.HAND_BACK:
                await self._pick_up(new_escalation, action.agent)
            if action.kind is ActionKind.REGENERATE and isinstance(self.drafter, Refiner):
                history = await self.store.recent(conversation.id, HISTORY)
                context = await self._regenerate_context(escalation, history)
                self._refine_later(new_escalation, context)
            return ActionResult("done", plan.message, new_escalation, sent=applied.messages)
        return ActionResult("refused", wording.BUSY)

    async def _current(self, clicked: Escalation, action: AgentAction) -> Escalation | ActionResult:
        """The escalation an action applies to. A card's buttons outlive its escalation: once
        it is answered, the customer may write again and escalate anew. An action on the older
        card may then apply to the escalation that waits now, as the agent means the
        conversation: a take-over claims it and a note goes on it. The rest needs what only the
        newer card shows (the new question, its draft), so it is refused with a pointer there.
        """
        newer = await self._newer(clicked)
        if newer is None:
            return clicked
        if action.kind in (ActionKind.TAKE_OVER, ActionKind.NOTE):
            return newer
        return ActionResult("refused", wording.ESCALATED_AGAIN, clicked)

    async def _newer(self, escalation: Escalation) -> Escalation | None:
        """The conversation's active escalation when it is not ``escalation`` (which is then
        over: the customer escalated anew), else None."""
        if escalation.status in ACTIVE_STATUSES:
            return None
        current = await self.store.active_escalation(escalation.conversation_id)
        return None if current is None or current.id == escalation.id else current

    async def _pick_up(self, escalation: Escalation, agent: str) -> None:
        """After a hand back, the bot answers the question the customer was still waiting on
        when it can; otherwise it says the agent will follow up, and records that."""
        async with self._locks[escalation.conversation_id]:
            conversation = await self._conversation(escalation.conversation_id)
            history = await self.store.recent(conversation.id, HISTORY)
            pending = open_needs(history)
            if conversation.state is not State.BOT or not pending:
                return
            # What the customer asked, not the details they gave the agent meanwhile ("12 Nov
            # £49.99, 14 Nov £120"): the first open question, else the first open need.
            need = next((n for n in pending if is_question(n.text)), pending[0])
            asked = need.text
            # Only what came after the hand-back (nothing before the need): the agent dealt with
            # what the customer said while waiting.
            earlier = [
                m.text
                for m in since_people(history)
                if m.kind is Kind.CUSTOMER and m.id < need.message_id
            ]
            decision = await asyncio.to_thread(self.responder.respond, asked, earlier)
            best = decision.answer
            if decision.action == "answer" and best is not None:
                reply = await self.answer(asked, best)
                change = Change(
                    replace(conversation, last_answer_article=best.article_id),
                    messages=(reply,),
                    answered=self._answered(conversation, decision),
                )
            else:
                entry = self._audit(
                    conversation, agent, "follow_up", escalation_id=escalation.id, detail=asked
                )
                change = Change(
                    conversation,
                    messages=(
                        NewMessage(Kind.HANDED_BACK, wording.follow_up(agent, asked)),
                        NewMessage(Kind.NOTE, wording.FOLLOW_UP_NOTE.format(question=asked)),
                    ),
                    audit=(entry,),
                )
            try:
                applied = await self.store.apply(change)
            except StoreConflict:
                return  # the customer wrote meanwhile: their new message is answered instead
            await self.publish_public(conversation.id, applied.messages)
            await self.publish_agents("message", escalation, applied.messages)

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
        return await self.drafter.draft(await self._regenerate_context(escalation, history))

    async def _regenerate_context(
        self, escalation: Escalation, history: Sequence[Message]
    ) -> DraftContext:
        recent = " ".join(customer_texts(history)[-3:])
        retrieval = await asyncio.to_thread(self.responder.retriever.search, recent)
        return context_of(
            history,
            retrieval,
            reason_codes(escalation.reasons),
            variant=escalation.draft_version,
            lookups=await self.look_up(needs_to_look_up(history)),
            topics=conversation_topics(
                customer_texts(history),
                self.responder.config,
                escalation.summary.topics,
            ),
        )

    async def reannounce_due(self) -> int:
        """Re-announce every escalation nobody picked up within ``reannounce_after_minutes``
        (and again every as many minutes); returns how many. Safe on several replicas: each
        round of each escalation is announced once (an idempotency key)."""
        every = self.config.reannounce_after_minutes
        if not every:
            return 0
        now = self.clock()
        announced = 0
        for escalation in await self.store.escalations([EscalationStatus.OPEN], QUEUE_LIMIT):
            round_ = int(waited_minutes(escalation, now) // every)
            conversation = await self.store.conversation(escalation.conversation_id)
            if round_ < 1 or conversation is None or conversation.state is not State.ESCALATED:
                continue
            entry = self._audit(
                conversation, "bot", REANNOUNCE, escalation_id=escalation.id, detail=str(round_)
            )
            key = f"{REANNOUNCE}:{escalation.id}:{round_}"
            try:
                applied = await self.store.apply(
                    Change(conversation, audit=(entry,), dedupe_key=key)
                )
            except StoreConflict:
                continue  # the customer wrote meanwhile; the next sweep tries again
            if applied.applied:
                self.metrics.reannounced()
                await self.publish_agents(REANNOUNCE, escalation, round_=round_)
                announced += 1
        return announced

    async def thread_reply(
        self,
        escalation_id: str,
        agent: str,
        channel: str,
        text: str,
        key: str,
        agent_id: str = "",
    ) -> ActionResult:
        """A reply under a card in an agent channel. It reaches the customer when its author
        (compared by ``agent_id``, never by display name) holds the conversation; a reply
        starting with ``note:``, or anyone else's, is kept as an internal note."""
        escalation = await self._escalation(escalation_id)
        conversation = await self._conversation(escalation.conversation_id)
        who = agent_id or agent
        holds = conversation.state is State.AGENT and conversation.holder == who
        if holds and not NOTE_PREFIX.match(text):
            kind, body = ActionKind.SEND, text
        else:
            kind, body = ActionKind.NOTE, NOTE_PREFIX.sub("", text)
        return await self.act(
            escalation_id, AgentAction(kind, agent, channel, body, key, agent_id=agent_id)
        )

    async def card(self, escalation_id: str) -> EscalationCard:
        """The escalation as a card, with the transcript and who did what."""
        escalation = await self._escalation(escalation_id)
        conversation = await self._conversation(escalation.conversation_id)
        waiting = escalation.status is EscalationStatus.OPEN
        where = await self._standing(escalation) if waiting else None
        return build_card(
            conversation,
            escalation,
            await self.store.recent(conversation.id, TRANSCRIPT, internal=True),
            await self.store.audit(conversation.id),
            public_url=self.config.public_url,
            mask_personal_data=self.config.mask_personal_data,
            catalogue=await asyncio.to_thread(self.catalogue),
            now=self.clock(),
            queue_position=where.position if where else None,
            superseded=await self._newer(escalation) is not None,
        )

    # -- for adapters --------------------------------------------------------------------------
    async def exists(self, conversation_id: str) -> bool:
        """True when the conversation exists (its customer token is stored)."""
        return await self.secret_hash(conversation_id) is not None

    async def decide(self, text: str) -> Decision:
        """The bot's decision for one question, statelessly (``/api/ask``, ``kb ask``)."""
        return await asyncio.to_thread(self.responder.respond, text)

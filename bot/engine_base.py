"""What every part of the engine shares: its settings, its dependencies, the audit trail, and
publishing events to customers and agents."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bot.conversation import (
    AuditEntry,
    Conversation,
    Escalation,
    Kind,
    Message,
    Source,
    State,
)
from bot.drafting import Drafter, passage_text
from bot.errors import UnknownConversation
from bot.events import AGENTS, CUSTOMERS, AgentEvent, CustomerEvent, customer_topic
from bot.learning import Answered
from bot.metrics import Metrics, NullMetrics
from bot.model import ArticleMatch, Decision, Retrieval
from bot.policy import Responder
from bot.ports import Assistant, ConversationStore, EventBus, NewMessage

AGENTS_TOPIC = AGENTS  # kept for callers of the old names; new code imports ``bot.events``
CUSTOMERS_TOPIC = CUSTOMERS
MAX_RETRIES = 5
CONTEXT_TURNS = 20
TRANSCRIPT = 500  # messages a card shows (the newest)


SECRETS_REMEMBERED = 50_000  # conversations whose token hash a replica keeps in memory


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
        expected_wait_minutes: The wait quoted while too few recent pick-ups give a live one.
        answer_while_waiting: Answer a new routine question while the customer waits.
        reannounce_after_minutes: Re-announce an escalation nobody picked up (0: never).
        public_url: Base URL for desk links on cards.
        mask_personal_data: Mask emails and phone numbers on agent cards.
        lease_seconds: How long a replica's claim on a customer message lasts; renewed while
            its turn runs, so a dead replica's messages wait at most this long.
        claim_grace_seconds: How long a message nobody has claimed yet is left to the replica
            that stored it before another replica's sweep takes it.
    """

    max_failed_turns: int = 2
    frustration_threshold: float = 0.5
    expected_wait_minutes: int = 5
    answer_while_waiting: bool = True
    reannounce_after_minutes: int = 10
    public_url: str = "http://127.0.0.1:8080"
    mask_personal_data: bool = True
    lease_seconds: float = 30.0
    claim_grace_seconds: float = 5.0


class EngineBase:
    """The engine's dependencies and plumbing; ``ConversationEngine`` documents the arguments.

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
        catalogue: Callable[[], Sequence[tuple[str, str]]] = tuple,
    ) -> None:
        self.store = store
        self.responder = responder
        self.drafter = drafter
        self.bus = bus
        self.config = config or EngineConfig()
        self.metrics = metrics or NullMetrics()
        self.clock = clock
        self.catalogue = catalogue
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._later: set[asyncio.Task[None]] = set()
        # This replica's name on the messages it leases (one per engine, so per process).
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:16]}"
        self._handling: set[int] = set()  # messages this replica's turns are handling
        self._received: dict[int, datetime] = {}  # stored by ``receive`` leased to us: until
        # A conversation's token hash never changes: one read per conversation, not per message.
        self._secret_hashes: OrderedDict[str, str] = OrderedDict()

    async def secret_hash(self, conversation_id: str) -> str | None:
        """The conversation's customer token hash (None: no such conversation), remembered."""
        stored = self._secret_hashes.get(conversation_id)
        if stored is None:
            stored = await self.store.secret_hash(conversation_id)
            if stored is not None:
                self._remember_secret(conversation_id, stored)
        return stored

    def _remember_secret(self, conversation_id: str, secret_hash: str) -> None:
        if len(self._secret_hashes) >= SECRETS_REMEMBERED:
            self._secret_hashes.popitem(last=False)  # the oldest
        self._secret_hashes[conversation_id] = secret_hash

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the reply (a refined draft); ``aclose`` cancels what is left."""
        task = asyncio.create_task(work)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def aclose(self) -> None:
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)

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

    def _answered(self, conversation: Conversation, decision: Decision) -> Answered | None:
        """The answer ``decision`` gives, as stored with it: every bot answer is, wherever it
        is given (a turn, after a hand-back, while the customer waits)."""
        best = decision.retrieval.best
        if best is None:
            return None
        return Answered(
            conversation.id,
            best.article_id,
            decision.retrieval.confidence,
            self.clock(),
            question=decision.retrieval.query,
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

    async def answer(self, question: str, match: ArticleMatch) -> NewMessage:
        """The bot's answer with ``match``, citing it: the passage, or an assistant's phrasing
        of it (opt-in, grounded, falling back to the passage)."""
        if isinstance(self.drafter, Assistant):
            text = await self.drafter.phrase(question, match)
        else:
            text = passage_text(match)
        return NewMessage(Kind.ANSWER, text, sources=(Source(match.title, match.url),))

    async def look_up(
        self, texts: Sequence[str], known: Retrieval | None = None
    ) -> list[tuple[str, Retrieval]]:
        """The knowledge base's matches for each text (``known`` is reused for its query)."""
        found = []
        for text in texts:
            if known is not None and known.query == text:
                found.append((text, known))
            else:
                found.append((text, await asyncio.to_thread(self.responder.retriever.search, text)))
        return found

    async def publish_public(self, conversation_id: str, messages: Sequence[Message]) -> None:
        for message in messages:
            if not message.internal:
                event = CustomerEvent.of(message)
                await self.bus.publish(customer_topic(conversation_id), event.to_dict())
                everyone = replace(event, conversation_id=conversation_id)
                await self.bus.publish(CUSTOMERS, everyone.to_dict())

    async def publish_agents(
        self, event: str, escalation: Escalation, messages: Sequence[Message] = (), round_: int = 0
    ) -> None:
        typed = AgentEvent(
            event,
            escalation.id,
            escalation.conversation_id,
            escalation.status.value,
            tuple(m.id for m in messages),
            round_,
        )
        await self.bus.publish(AGENTS, typed.to_dict())

"""The ports through which the core reaches the outside world. Adapters implement them:
``knowledge.search`` the Retriever, ``integrations.storage`` the ConversationStore,
``integrations.bus`` the EventBus, ``bot.drafting``/an LLM the Drafter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.conversation import (
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    Source,
)
from bot.drafting import DraftContext
from bot.learning import Answered, NotedQuestion, Outcome, Verdict
from bot.model import ArticleMatch, Reading, Retrieval
from bot.queue import Pickup


class Retriever(Protocol):
    """Searches the knowledge base. Implemented in ``knowledge.search``."""

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        """Find the articles that answer ``text``, with a calibrated confidence."""
        ...


class TrafficObserver(Protocol):
    """Notes the confidence of each question decided on confidence alone, so that the
    knowledge side can follow the out-of-scope share of live traffic. Implemented in
    ``knowledge.base``."""

    @property
    def calibrated_threshold(self) -> float:
        """The threshold calibration picked, which noted confidences are read against."""
        ...

    def observe(self, confidence: float) -> None: ...


class SignalReader(Protocol):
    """Reads learned signals (frustration, a request for a person, complaint, sensitive topics)
    from the query embedding. Implemented in ``knowledge.heads``."""

    def read(self, texts: Sequence[str]) -> list[Reading]:
        """One reading per text; each text's ``echo`` compares it with those before it."""
        ...


@runtime_checkable
class Assistant(Protocol):
    """A model's help beyond drafts, each part switchable and each falling back to what the
    bot does without a model (an LLM drafter implements it)."""

    async def phrase(self, question: str, match: ArticleMatch) -> str:
        """The answer to send for ``match``, which the bot already decided to answer with:
        phrased for the question, or the passage itself."""
        ...

    async def suggest(self, context: DraftContext) -> tuple[str, ...]:
        """Suggestions for the agent holding the conversation (none when off)."""
        ...


@dataclass(frozen=True)
class NewMessage:
    """A message to store as part of a change."""

    kind: Kind
    text: str
    sources: tuple[Source, ...] = ()
    author: str | None = None
    handled: bool = True
    author_id: str | None = None  # an agent's stable id on its channel (``AgentAction.who``)


@dataclass(frozen=True)
class Change:
    """Everything one step of the engine writes, applied in one transaction.

    Attributes:
        conversation: The conversation's new values; its ``version`` is the version the engine
            read. The store compare-and-sets on it and bumps it, so a concurrent writer makes
            the change fail with ``StoreConflict`` instead of overwriting.
        escalation: Inserted if new, else updated.
        messages: Messages to add.
        audit: Audit entries to add.
        dedupe_key: If set and already used, nothing is written and ``applied`` is False.
        handled: A customer message this change has handled (its lease ends with it). If it
            was handled already, the change fails with ``StoreConflict``: a message is handled
            once.
        suggestion: A learned (question, answer, agent) for admins to review.
        outcome: A labelled decision of the bot (a customer rejected its answer).
        answered: The answer this change gives, at its confidence (what wrong answers that
            customers report are weighed against).
        verdict: What became known of an earlier answer (a customer rejected it).
        noted: The question this change decided on confidence alone, for the traffic window
            every replica reads (``TrafficObserver``).
    """

    conversation: Conversation
    escalation: Escalation | None = None
    messages: tuple[NewMessage, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    dedupe_key: str | None = None
    handled: int | None = None
    suggestion: tuple[str, str, str] | None = None
    outcome: Outcome | None = None
    answered: Answered | None = None
    verdict: Verdict | None = None
    noted: NotedQuestion | None = None


@dataclass(frozen=True)
class Applied:
    """The result of ``ConversationStore.apply``: ``applied`` is False for a duplicate."""

    applied: bool
    messages: tuple[Message, ...] = field(default=())


class ConversationStore(Protocol):
    """What the engine keeps: conversations, messages, escalations and audit. Desk accounts
    live beside the desk's auth (``integrations.web.accounts``), suggestions beside learning
    (``integrations.learning``)."""

    async def create_conversation(
        self, conversation_id: str, channel: str, secret_hash: str, customer: str | None
    ) -> Conversation: ...
    async def conversation(self, conversation_id: str) -> Conversation | None: ...
    async def secret_hash(self, conversation_id: str) -> str | None: ...
    async def add_customer_message(
        self, conversation_id: str, text: str, lease: tuple[str, datetime] | None = None
    ) -> Message:
        """Store a customer's message, unhandled; with ``lease`` (owner, until) it is stored
        already claimed by that owner."""
        ...

    async def latest_answer(self, conversation_id: str) -> Answered | None:
        """The bot's latest recorded answer in a conversation, with what is known of it."""
        ...

    async def recent(
        self, conversation_id: str, count: int, *, internal: bool = False
    ) -> list[Message]:
        """The newest ``count`` messages, oldest first."""
        ...

    async def unhandled_messages(self) -> list[Message]: ...

    # Each unhandled customer message is handled by one replica at a time: the one holding its
    # lease. Times come from the replicas' clocks (keep them in sync, as for sessions).
    async def claim_message(
        self, message_id: int, owner: str, until: datetime, *, now: datetime
    ) -> bool:
        """Lease the unhandled message ``message_id`` to ``owner`` until ``until``, atomically
        across replicas. True when it was free (never leased, released, or its lease ended
        before ``now``) or already ``owner``'s (a renewal); False when it is handled or another
        owner's lease is live."""
        ...

    async def release_message(self, message_id: int, owner: str) -> None:
        """Give up ``owner``'s lease (if it still holds it) so that any replica may claim it."""
        ...

    async def claimable_messages(
        self, now: datetime, received_before: datetime, limit: int = 100
    ) -> list[Message]:
        """Unhandled messages nobody holds, the oldest first: leased until before ``now``, or
        never leased (or released) and stored before ``received_before``."""
        ...

    async def apply(self, change: Change) -> Applied: ...
    async def has_key(self, dedupe_key: str) -> bool: ...
    async def escalation(self, escalation_id: str) -> Escalation | None: ...
    async def active_escalation(self, conversation_id: str) -> Escalation | None: ...
    async def waiting_escalations(self) -> int:
        """How many escalations wait for an agent (status ``open``)."""
        ...

    async def escalations(
        self, statuses: Sequence[EscalationStatus], limit: int = 200
    ) -> list[Escalation]:
        """Escalations in ``statuses``, the oldest first."""
        ...

    async def pickups(self, since: datetime) -> list[Pickup]:
        """Escalations an agent first acted on at or after ``since``."""
        ...

    async def audit(self, conversation_id: str) -> list[AuditEntry]: ...


class EventBus(Protocol):
    """Publish events to every replica; subscribers get the events published after they
    subscribed. Events are JSON-compatible dicts."""

    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    def subscribe(
        self, topic: str
    ) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...

    async def close(self) -> None: ...

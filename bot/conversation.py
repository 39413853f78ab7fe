"""Conversation domain types: conversations, messages, escalations, agent actions, audit.

The hand-off state machine lives here too::

    BOT ──► ESCALATED ──► AGENT ──► BOT | RESOLVED
     │          │  └──────► BOT | RESOLVED
     └──► AGENT └──► RESOLVED          RESOLVED ──► BOT (the customer writes again)

An agent may also take over a conversation the bot is still handling (BOT → AGENT).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.errors import IllegalTransition
from bot.facts import topics_of


class State(StrEnum):
    """Who owns a conversation."""

    BOT = "bot"
    ESCALATED = "escalated"  # waiting for an agent; the bot stays silent
    AGENT = "agent"  # an agent holds it; the bot only listens in
    RESOLVED = "resolved"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.BOT: frozenset({State.ESCALATED, State.AGENT, State.RESOLVED}),
    State.ESCALATED: frozenset({State.AGENT, State.BOT, State.RESOLVED}),
    State.AGENT: frozenset({State.BOT, State.RESOLVED}),
    State.RESOLVED: frozenset({State.BOT}),
}


def check_transition(current: State, target: State) -> None:
    """Raise ``IllegalTransition`` unless ``current → target`` is in the table."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current.value, target.value)


class Kind(StrEnum):
    """What a message is. Public kinds reach the customer; internal ones only agents."""

    CUSTOMER = "customer"
    ANSWER = "answer"  # the bot's answer, with sources
    ESCALATED = "escalated"  # "a person will reply shortly"
    COURTESY = "courtesy"  # the bot's reply to a greeting or thanks ("bot.courtesy")
    WAITING = "waiting"  # a reply while the customer waits: where they stand
    AGENT_JOINED = "agent_joined"
    AGENT_MESSAGE = "agent_message"
    HANDED_BACK = "handed_back"
    RESOLVED = "resolved"
    SUGGESTION = "suggestion"  # internal: live-assist knowledge and draft
    WARNING = "warning"  # internal: frustration is rising
    NOTE = "note"  # internal: an agent's note


INTERNAL_KINDS = frozenset({Kind.SUGGESTION, Kind.WARNING, Kind.NOTE})
PEOPLE_DONE = frozenset({Kind.HANDED_BACK, Kind.RESOLVED})  # handed back, or closed


@dataclass(frozen=True)
class Source:
    """A citation shown with an answer."""

    title: str
    url: str | None = None


@dataclass(frozen=True)
class Message:
    """One stored message. ``id`` orders a conversation's messages."""

    id: int
    conversation_id: str
    kind: Kind
    text: str
    created_at: datetime
    sources: tuple[Source, ...] = ()
    author: str | None = None
    handled: bool = True
    author_id: str | None = None  # an agent's stable id on its channel (``AgentAction.who``)

    @property
    def internal(self) -> bool:
        return self.kind in INTERNAL_KINDS

    def public_view(self) -> dict[str, Any]:
        """What the customer may see: type, text, sources; never scores, drafts or notes."""
        view: dict[str, Any] = {"id": self.id, "type": self.kind.value, "text": self.text}
        if self.kind is Kind.ANSWER:
            view["sources"] = [{"title": s.title, "url": s.url} for s in self.sources]
        if self.kind is Kind.AGENT_MESSAGE and self.author:
            view["author"] = self.author
        view["at"] = self.created_at.isoformat()
        return view


@dataclass(frozen=True)
class Conversation:
    """A customer's conversation and who owns it.

    Attributes:
        version: Bumped on every change; state changes compare-and-set on it.
        holder: The stable id of the agent holding the conversation (state AGENT); the
            escalation keeps their display name.
        failed_turns: Answers in a row that the customer said did not help.
        last_answer_article: The article the bot answered with last.
    """

    id: str
    channel: str
    state: State
    version: int
    created_at: datetime
    holder: str | None = None
    failed_turns: int = 0
    last_answer_article: str | None = None
    customer: str | None = None


class EscalationStatus(StrEnum):
    OPEN = "open"  # waiting for an agent
    CLAIMED = "claimed"  # an agent took over
    ANSWERED = "answered"  # an agent sent a reply and the bot carries on
    HANDED_BACK = "handed_back"
    RESOLVED = "resolved"


ACTIVE_STATUSES = frozenset({EscalationStatus.OPEN, EscalationStatus.CLAIMED})


@dataclass(frozen=True)
class Summary:
    """The context an agent needs at a glance."""

    intent: str
    goal: str
    sentiment: str
    trend: str
    key_facts: tuple[str, ...] = ()
    bot_answers: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    """The sensitive topics read in the conversation (``personal_data``, ``crisis``…): kept
    when the card is refreshed, since the heads that read them do not read earlier messages
    again, and read by the queue (a customer at risk comes first)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "goal": self.goal,
            "sentiment": self.sentiment,
            "trend": self.trend,
            "key_facts": list(self.key_facts),
            "bot_answers": list(self.bot_answers),
            "topics": list(self.topics),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            intent=data["intent"],
            goal=data["goal"],
            sentiment=data["sentiment"],
            trend=data["trend"],
            key_facts=tuple(data["key_facts"]),
            bot_answers=tuple(data["bot_answers"]),
            # Stored before topics had a field of their own: read back from the key facts.
            topics=tuple(data["topics"] if "topics" in data else topics_of(data["key_facts"])),
        )


@dataclass(frozen=True)
class ArticleRef:
    """A knowledge article offered to the agent."""

    article_id: str
    title: str
    url: str | None
    passage: str
    confidence: float = 0.0
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.article_id,
            "title": self.title,
            "url": self.url,
            "passage": self.passage,
            "confidence": self.confidence,
            "tags": list(self.tags),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArticleRef:
        return cls(
            data["id"],
            data["title"],
            data["url"],
            data["passage"],
            data.get("confidence", 0.0),
            tuple(data.get("tags", ())),
        )


@dataclass(frozen=True)
class Escalation:
    """One hand-over of a conversation to people, with the context the bot prepared."""

    id: str
    conversation_id: str
    status: EscalationStatus
    reasons: tuple[str, ...]
    summary: Summary
    articles: tuple[ArticleRef, ...]
    draft: str
    draft_version: int
    created_at: datetime
    first_action_at: datetime | None = None
    holder: str | None = None


CUSTOMER_CLOSED = "customer_closed"
"""The audit action and agent event when a waiting customer no longer needs a person."""


class ActionKind(StrEnum):
    APPROVE = "approve"
    SEND = "send"
    TAKE_OVER = "take_over"
    HAND_BACK = "hand_back"
    RESOLVE = "resolve"
    REGENERATE = "regenerate"
    NOTE = "note"


@dataclass(frozen=True)
class AgentAction:
    """A click in Slack, Teams or the desk, as one domain action.

    Attributes:
        kind: What the agent asked for.
        agent: The agent's display name (shown to the customer and on cards).
        channel: Where the click came from: ``desk``, ``slack``, ``teams``, ``api``.
        text: The reply for ``send``, the note for ``note``, or for ``approve`` the draft as
            the agent left it in the card's box (sent as an edit when it differs).
        key: An idempotency key; a repeat with the same key does nothing. When absent one is
            derived from the action and the draft it acts on.
        agent_id: The agent's stable id on its channel; display names are not unique.
        seen_version: The draft version of the card the agent clicked on, when the channel
            tells it: a double click or a resend of a send is then one send, even after the
            first one moved the draft on.
    """

    kind: ActionKind
    agent: str
    channel: str
    text: str | None = None
    key: str | None = None
    agent_id: str = ""
    seen_version: int | None = None

    @property
    def who(self) -> str:
        """The agent's stable identity (``slack:U…``, ``teams:…``, ``desk:username``): what a
        conversation is held by and compared with. Display names are only for show."""
        return self.agent_id or self.agent


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when, from which channel."""

    conversation_id: str
    actor: str
    channel: str
    action: str
    at: datetime
    escalation_id: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class KnowledgeSuggestion:
    """What an agent taught, waiting for an admin to accept it.

    Attributes:
        kind: ``answer`` (a question and the agent's edited answer: a new article),
            ``variant`` (the question belongs to ``article_id``: a new question variant) or
            ``not_in_kb`` (the knowledge base has no answer: nothing to ingest, a gap).
        count: How many times it was taught: a pending suggestion of the same kind and
            article with (nearly) the same question is counted, not added again.
        proposal: A model's proposed article for an ``answer`` (``title``, ``question``,
            ``answer``: clean and without personal data), accepted in its place.
    """

    id: int
    question: str
    answer: str
    agent: str
    conversation_id: str
    status: str
    created_at: datetime
    article_id: str | None = None
    kind: str = "answer"
    count: int = 1
    proposal: dict[str, str] | None = None


@dataclass(frozen=True)
class ActionResult:
    """What an agent action did.

    Attributes:
        outcome: ``done``, ``duplicate`` (nothing happened twice) or ``refused``.
        message: A sentence for the agent.
        holder: Who holds the conversation (set when a take-over lost the race).
    """

    outcome: str
    message: str
    escalation: Escalation | None = None
    holder: str | None = None
    sent: tuple[Message, ...] = field(default=())


def since_people(history: Sequence[Message]) -> list[Message]:
    """The messages in ``history`` after it was last handed back or closed (an agent handed
    back or resolved it, or the customer closed the wait themselves); all of them when neither
    happened. What came before was dealt with, or put behind by the customer."""
    start = next(
        (i + 1 for i in range(len(history) - 1, -1, -1) if history[i].kind in PEOPLE_DONE), 0
    )
    return list(history[start:])


def customer_texts(history: Sequence[Message]) -> list[str]:
    """The customer's messages in ``history``, oldest first."""
    return [m.text for m in history if m.kind is Kind.CUSTOMER]


def customer_turns_since_people(history: Sequence[Message]) -> list[str]:
    """The customer's messages in ``since_people(history)``: what came before does not carry
    into how frustrated the customer sounds now."""
    return customer_texts(since_people(history))

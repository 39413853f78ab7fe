"""The engine's events as types, and the bus topics they travel on. On the bus an event is a
JSON-compatible dict (``to_dict``); subscribers read it back with ``from_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.conversation import Kind, Message

AGENTS = "agents"
"""Every change to an escalation, for the desk and the agent channels."""
CUSTOMERS = "customers"
"""Every customer-visible message of every conversation, for connectors that relay them."""
TYPING = "typing"
REANNOUNCE = "reannounce"
"""The agent event (and audit action) when an escalation nobody picked up is announced again."""
SUPERSEDED = "superseded"
"""The agent event that redraws an older card of a conversation when an action on it applied to
the escalation that waits now."""


def customer_topic(conversation_id: str) -> str:
    """The topic a conversation's customer follows."""
    return f"customer:{conversation_id}"


@dataclass(frozen=True)
class AgentEvent:
    """Something happened to an escalation.

    Attributes:
        type: ``opened``, ``message`` or the agent action's kind (``approve``, ``take_over``…).
        escalation_id: The escalation.
        conversation_id: Its conversation.
        status: The escalation's status after the event.
        messages: Ids of the messages the event added or names.
        round: Which re-announcement this is (``reannounce`` events).
    """

    type: str
    escalation_id: str
    conversation_id: str
    status: str
    messages: tuple[int, ...] = ()
    round: int = 0

    @property
    def opened(self) -> bool:
        """True for a new escalation (its card is posted, not updated)."""
        return self.type == "opened"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "escalation_id": self.escalation_id,
            "conversation_id": self.conversation_id,
            "status": self.status,
            "messages": list(self.messages),
            "round": self.round,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentEvent:
        return cls(
            type=str(data["type"]),
            escalation_id=str(data["escalation_id"]),
            conversation_id=str(data["conversation_id"]),
            status=str(data.get("status", "")),
            messages=tuple(int(m) for m in data.get("messages", ())),
            round=int(data.get("round", 0)),
        )


@dataclass(frozen=True)
class SourceLink:
    """An article a customer-visible answer cites."""

    title: str
    url: str | None = None


@dataclass(frozen=True)
class CustomerEvent:
    """What a customer sees: a message's public view, or ``typing``. Never scores, drafts or
    internal notes.

    Attributes:
        type: The message's kind (``answer``, ``agent_message``…) or ``typing``.
        id: The message's id (None for ``typing``).
        text: The message's text.
        sources: An answer's articles.
        author: The agent who wrote an ``agent_message``.
        at: When the message was stored (ISO 8601).
        conversation_id: Set on the ``CUSTOMERS`` topic, where every conversation's events go.
    """

    type: str
    id: int | None = None
    text: str = ""
    sources: tuple[SourceLink, ...] = ()
    author: str | None = None
    at: str | None = None
    conversation_id: str | None = None

    @classmethod
    def typing(cls) -> CustomerEvent:
        return cls(TYPING)

    @classmethod
    def of(cls, message: Message, conversation_id: str | None = None) -> CustomerEvent:
        """The public view of ``message`` (internal messages must not be passed)."""
        return cls.from_dict(message.public_view() | {"conversation_id": conversation_id})

    def to_dict(self) -> dict[str, Any]:
        if self.id is None:
            return {"type": self.type}
        view: dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text}
        if self.type == Kind.ANSWER.value:
            view["sources"] = [{"title": s.title, "url": s.url} for s in self.sources]
        if self.author:
            view["author"] = self.author
        if self.at is not None:
            view["at"] = self.at
        if self.conversation_id is not None:
            view["conversation_id"] = self.conversation_id
        return view

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerEvent:
        message_id = data.get("id")
        conversation_id = data.get("conversation_id")
        return cls(
            type=str(data["type"]),
            id=int(message_id) if message_id is not None else None,
            text=str(data.get("text", "")),
            sources=tuple(
                SourceLink(str(s["title"]), s.get("url")) for s in data.get("sources", ())
            ),
            author=data.get("author"),
            at=data.get("at"),
            conversation_id=str(conversation_id) if conversation_id is not None else None,
        )

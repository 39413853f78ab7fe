"""The domain ``EscalationCard``: one card that Slack, Teams and the desk each render."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot import queue, wording
from bot.conversation import (
    ACTIVE_STATUSES,
    CUSTOMER_CLOSED,
    ArticleRef,
    AuditEntry,
    Conversation,
    Escalation,
    Kind,
    Message,
    State,
    Summary,
)
from bot.drafting import reason_labels
from bot.facts import redact
from bot.model import EscalationReason
from bot.needs import open_needs, promises_follow_up
from bot.text import clip

HISTORY_PAGE = 50  # history entries a card carries; older ones are paged
NOTICES = frozenset({Kind.CUSTOMER, Kind.AGENT_JOINED, Kind.ESCALATED, Kind.WAITING, Kind.COURTESY})
"""What passes between an agent's promise and a resolve without keeping it."""
CAUTION_QUOTE = 160  # characters of the customer's need or the agent's promise a caution quotes

SPEAKERS: dict[Kind, str] = {
    Kind.CUSTOMER: "Customer",
    Kind.ANSWER: "Bot",
    Kind.ESCALATED: "Bot",
    Kind.WAITING: "Bot",
    Kind.COURTESY: "Bot",
    Kind.AGENT_MESSAGE: "Agent",
    Kind.AGENT_JOINED: "System",
    Kind.HANDED_BACK: "System",
    Kind.RESOLVED: "System",
    Kind.SUGGESTION: "Assist (internal)",
    Kind.WARNING: "Warning (internal)",
    Kind.NOTE: "Note (internal)",
}


def speaker(message: Message) -> str:
    """Who a transcript line is from: the agent's name, else a label for its kind."""
    return message.author or SPEAKERS[message.kind]


@dataclass(frozen=True)
class EscalationCard:
    """Everything an agent sees about one escalation.

    Attributes:
        actions: The actions that still make sense (spent ones are left out).
        history: Who did what, oldest first.
        choices: The articles an agent can tag the escalation with, ``(id, title)``: the
            card's own articles first (the first one preselected), then the rest.
    """

    escalation_id: str
    conversation_id: str
    state: State
    status: str
    holder: str | None
    reasons: tuple[str, ...]
    summary: Summary
    transcript: tuple[Message, ...]
    articles: tuple[ArticleRef, ...]
    draft: str
    draft_version: int
    actions: tuple[str, ...]
    history: tuple[AuditEntry, ...]
    desk_url: str
    customer: str | None = None
    channel: str = "web"
    choices: tuple[tuple[str, str], ...] = ()
    created_at: datetime | None = None
    priority: float = 0.0
    priority_label: str = "normal"
    wait_minutes: int = 0
    queue_position: int | None = None
    closed_by: str | None = None
    resolve_caution: str = ""
    tag: str | None = None
    wrote_back_to: str | None = None
    wrote_back_to_id: str | None = None  # that agent's stable id (``slack:U…``), if stored

    @property
    def reason_labels(self) -> list[str]:
        """The reasons as every channel shows them; a customer writing back names the agent
        whose reply they answer, the one best placed to pick the card up."""
        labels = reason_labels(self.reasons)
        if self.wrote_back_to:
            named = wording.WROTE_BACK_TO.format(agent=self.wrote_back_to)
            labels = [
                named if reason == EscalationReason.WROTE_BACK.value else label
                for reason, label in zip(self.reasons, labels, strict=True)
            ]
        return labels

    @property
    def suggested_article(self) -> str | None:
        """The article preselected for tagging: the one an agent tagged ("" or None: not in
        the knowledge base), else the bot's best guess."""
        if self.tag is not None:
            return self.tag or None
        return self.articles[0].article_id if self.articles else None

    @property
    def queue_line(self) -> str:
        """Priority, wait and place in the queue in a few words (every channel shows it)."""
        if self.closed_by == "customer":
            return "closed by the customer"
        waited = (
            f"waited {self.wait_minutes} min"
            if self.queue_position is None
            else (f"waiting {self.wait_minutes} min, #{self.queue_position} in the queue")
        )
        return f"{self.priority_label} priority, {waited}"

    def to_json(self, history_page: int = HISTORY_PAGE) -> dict[str, Any]:
        """The card as the desk API returns it: the newest ``history_page`` history entries
        (oldest first, each with its index ``n``) and ``history_count``; ``history_json``
        pages back through the rest."""
        return {
            "id": self.escalation_id,
            "conversation_id": self.conversation_id,
            "state": self.state.value,
            "status": self.status,
            "holder": self.holder,
            "reasons": list(self.reasons),
            "reason_labels": self.reason_labels,
            "wrote_back_to": self.wrote_back_to,
            "summary": self.summary.to_json(),
            "transcript": [
                {
                    "id": m.id,
                    "kind": m.kind.value,
                    "text": m.text,
                    "author": m.author,
                    "who": speaker(m),
                    "internal": m.internal,
                    "at": m.created_at.isoformat(),
                }
                for m in self.transcript
            ],
            "articles": [a.to_json() for a in self.articles],
            "draft": self.draft,
            "draft_version": self.draft_version,
            "actions": list(self.actions),
            "history": self.history_json(len(self.history), history_page),
            "history_count": len(self.history),
            "desk_url": self.desk_url,
            "customer": self.customer,
            "channel": self.channel,
            "tag_choices": [{"id": i, "title": t} for i, t in self.choices],
            "suggested_article": self.suggested_article,
            "waiting_since": self.created_at.isoformat() if self.created_at else None,
            "priority": self.priority,
            "priority_label": self.priority_label,
            "wait_minutes": self.wait_minutes,
            "queue_position": self.queue_position,
            "closed_by": self.closed_by,
            "queue_line": self.queue_line,
            "resolve_caution": self.resolve_caution,
        }

    def history_json(self, before: int, limit: int) -> list[dict[str, Any]]:
        """History entries ``n`` in ``[before - limit, before)``, oldest first."""
        end = max(0, min(before, len(self.history)))
        start = max(0, end - max(0, limit))
        return [
            {
                "n": n,
                "actor": h.actor,
                "channel": h.channel,
                "action": h.action,
                "from": h.from_state,
                "to": h.to_state,
                "detail": h.detail,
                "at": h.at.isoformat(),
            }
            for n, h in enumerate(self.history[start:end], start=start)
        ]


def available_actions(
    conversation: Conversation, escalation: Escalation, superseded: bool = False
) -> tuple[str, ...]:
    """The buttons a card should still show. ``superseded``: another escalation of the
    conversation waits or is held (a waiting conversation's card that is not current is one)."""
    state = conversation.state
    if state is State.RESOLVED:
        return ()
    current = escalation.status in ACTIVE_STATUSES
    if superseded or (state is State.ESCALATED and not current):
        # The rest is on the newer card (``engine._current``): take it over while it waits.
        return ("take_over", "note") if state is State.ESCALATED else ("note",)
    if state is State.AGENT:
        # A draft the agent has answered leaves the card (``plan_send``): nothing to approve.
        approve = ("approve",) if current and escalation.draft.strip() else ()
        drafts = (*approve, "send", "regenerate") if current else ()
        return (*drafts, "hand_back", "resolve", "note")
    if state is State.ESCALATED:
        # An empty draft (nothing the drafter could say) has nothing to approve.
        approve = ("approve",) if escalation.draft.strip() else ()
        return (*approve, "send", "take_over", "regenerate", "hand_back", "resolve", "note")
    return ("take_over", "resolve", "note")


def build_card(
    conversation: Conversation,
    escalation: Escalation,
    transcript: list[Message],
    history: list[AuditEntry],
    *,
    public_url: str,
    mask_personal_data: bool,
    catalogue: Sequence[tuple[str, str]] = (),
    now: datetime | None = None,
    queue_position: int | None = None,
    superseded: bool = False,
) -> EscalationCard:
    """Assemble the card from stored state.

    Args:
        catalogue: Every article as ``(id, title)``, for the tag choices.
        now: The time the card is drawn (its wait and priority); the escalation's own time
            when absent.
        queue_position: Where the escalation stands in the queue, if it waits.
        superseded: Another escalation of the conversation waits or is held: this card only
            takes over (while it waits) or notes (``engine._current``).
    """
    now = now or escalation.created_at
    urgent = queue.urgency(escalation, now)
    actions = available_actions(conversation, escalation, superseded)
    # Read on what the customer wrote (an email alone is an answer), quoted as the card shows it.
    shown = redact if mask_personal_data else str
    caution = resolve_caution(transcript, shown) if "resolve" in actions else ""
    if mask_personal_data:
        transcript = [m if m.kind is not Kind.CUSTOMER else _redacted(m) for m in transcript]
    choices = tag_choices(escalation.articles, catalogue)
    replied = written_back_to(escalation, transcript)
    return EscalationCard(
        escalation_id=escalation.id,
        conversation_id=conversation.id,
        state=conversation.state,
        status=escalation.status.value,
        holder=(escalation.holder or conversation.holder) if conversation.holder else None,
        reasons=escalation.reasons,
        summary=escalation.summary,
        transcript=tuple(transcript),
        articles=escalation.articles,
        draft=escalation.draft,
        draft_version=escalation.draft_version,
        actions=actions,
        history=tuple(history),
        desk_url=f"{public_url}/desk#/escalations/{escalation.id}",
        customer=conversation.customer,
        channel=conversation.channel,
        choices=choices,
        created_at=escalation.created_at,
        priority=urgent.priority,
        priority_label=urgent.label,
        wait_minutes=urgent.wait_minutes,
        queue_position=queue_position,
        closed_by=closed_by(history),
        resolve_caution=caution,
        tag=tagged(transcript, choices),
        wrote_back_to=replied.author if replied else None,
        wrote_back_to_id=replied.author_id if replied else None,
    )


def written_back_to(escalation: Escalation, transcript: Sequence[Message]) -> Message | None:
    """The agent's reply a customer wrote back to (a ``wrote_back`` escalation): the last one
    before the escalation opened, if it is in the transcript. (Times from two replicas' clocks
    are compared; the customer's reply in between takes seconds at least.)"""
    if EscalationReason.WROTE_BACK.value not in escalation.reasons:
        return None
    for message in reversed(transcript):
        if message.kind is Kind.AGENT_MESSAGE and message.created_at <= escalation.created_at:
            return message
    return None


def tagged(transcript: Sequence[Message], choices: Sequence[tuple[str, str]]) -> str | None:
    """The article the latest tag named, read back from its note ("" for not in the knowledge
    base; None when nobody tagged, or the article has gone)."""
    ids = {title: article_id for article_id, title in reversed(choices)}  # the first on a tie
    prefix = wording.TAGGED.format(title="")
    for message in reversed(transcript):
        if message.kind is Kind.NOTE and message.text.startswith(prefix):
            title = message.text[len(prefix) :].rsplit(" (", 1)[0]
            return "" if title == wording.NOT_IN_KB_TITLE else ids.get(title)
    return None


def resolve_caution(transcript: Sequence[Message], shown: Callable[[str], str] = str) -> str:
    """Why resolving now would leave the customer waiting, or "" when it would not: a need of
    theirs that no reply has closed, else the agent's last reply promising to come back to
    them with nothing from the agent or the bot since (the customer's thanks change nothing).
    ``shown`` is how the card shows a customer's words (masked), applied before the quote is cut.
    """
    needs = open_needs(transcript)
    if needs:
        return wording.RESOLVE_UNANSWERED.format(need=clip(shown(needs[0].text), CAUTION_QUOTE))
    for message in reversed(transcript):
        if message.internal or message.kind in NOTICES:
            continue
        if message.kind is Kind.AGENT_MESSAGE and promises_follow_up(message.text):
            return wording.RESOLVE_PROMISED.format(reply=clip(message.text, CAUTION_QUOTE))
        break
    return ""


def closed_by(history: Sequence[AuditEntry]) -> str | None:
    """``customer`` when the customer closed the wait (the card says so)."""
    return "customer" if any(h.action == CUSTOMER_CLOSED for h in history) else None


def tag_choices(
    articles: Sequence[ArticleRef], catalogue: Sequence[tuple[str, str]], limit: int = 99
) -> tuple[tuple[str, str], ...]:
    """The card's articles first, then the rest of the catalogue, at most ``limit``."""
    first = [(a.article_id, a.title) for a in articles]
    seen = {i for i, _ in first}
    rest = [(i, t) for i, t in catalogue if i not in seen]
    return tuple([*first, *rest][:limit])


def _redacted(message: Message) -> Message:
    return replace(message, text=redact(message.text))

"""An in-memory store for tests: the core's ``ConversationStore``, desk accounts and learned
suggestions in dicts, held to the same contract suite as SQLite and Postgres. One process only;
a change is applied without awaiting, so it is atomic on the event loop."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.conversation import (
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    KnowledgeSuggestion,
    Message,
    State,
)
from bot.errors import StoreConflict, UnknownConversation
from bot.learning import CUSTOMER_REJECTED, Answered, NotedQuestion, Verdict, same_question
from bot.ports import Applied, Change, NewMessage
from bot.queue import Pickup
from integrations.web.accounts import AgentAccount


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    """Everything ``SqlStore`` keeps, in memory."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._secrets: dict[str, str] = {}
        self._messages: list[Message] = []
        self._escalations: dict[str, Escalation] = {}
        self._audit: list[AuditEntry] = []
        self._keys: set[str] = set()
        self._leases: dict[int, tuple[str, datetime]] = {}  # message id: (owner, until)
        self._suggestions: dict[int, KnowledgeSuggestion] = {}
        self._agents: dict[str, AgentAccount] = {}
        self._sessions: dict[str, tuple[str, datetime]] = {}
        self._answers: list[Answered] = []
        self._noted: list[NotedQuestion] = []

    # -- conversations and messages ------------------------------------------------------------
    async def create_conversation(
        self, conversation_id: str, channel: str, secret_hash: str, customer: str | None
    ) -> Conversation:
        conversation = Conversation(
            conversation_id, channel, State.BOT, 0, _now(), customer=customer
        )
        self._conversations[conversation_id] = conversation
        self._secrets[conversation_id] = secret_hash
        return conversation

    async def conversation(self, conversation_id: str) -> Conversation | None:
        return self._conversations.get(conversation_id)

    async def secret_hash(self, conversation_id: str) -> str | None:
        return self._secrets.get(conversation_id)

    async def add_customer_message(
        self, conversation_id: str, text: str, lease: tuple[str, datetime] | None = None
    ) -> Message:
        if conversation_id not in self._conversations:
            raise UnknownConversation("conversation", conversation_id)
        new = NewMessage(Kind.CUSTOMER, text, handled=False)
        message = self._add(conversation_id, new, _now())
        if lease is not None:
            self._leases[message.id] = lease
        return message

    def _add(self, conversation_id: str, new: NewMessage, at: datetime) -> Message:
        message = Message(
            len(self._messages) + 1,
            conversation_id,
            new.kind,
            new.text,
            at,
            new.sources,
            new.author,
            new.handled,
            new.author_id,
        )
        self._messages.append(message)
        return message

    def _of(self, conversation_id: str, internal: bool) -> list[Message]:
        return [
            m
            for m in self._messages
            if m.conversation_id == conversation_id and (internal or not m.internal)
        ]

    async def messages(
        self, conversation_id: str, *, after: int = 0, internal: bool = False, limit: int = 500
    ) -> list[Message]:
        return [m for m in self._of(conversation_id, internal) if m.id > after][:limit]

    async def recent(
        self, conversation_id: str, count: int, *, internal: bool = False
    ) -> list[Message]:
        return self._of(conversation_id, internal)[-count:] if count else []

    async def unhandled_messages(self) -> list[Message]:
        return [m for m in self._messages if not m.handled]

    # -- leases on unhandled messages -----------------------------------------------------------
    async def claim_message(
        self, message_id: int, owner: str, until: datetime, *, now: datetime
    ) -> bool:
        if not 0 < message_id <= len(self._messages) or self._messages[message_id - 1].handled:
            return False
        holder, held_until = self._leases.get(message_id, (owner, now))
        if holder != owner and held_until >= now:
            return False
        self._leases[message_id] = (owner, until)
        return True

    async def release_message(self, message_id: int, owner: str) -> None:
        if self._leases.get(message_id, ("", _now()))[0] == owner:
            del self._leases[message_id]

    async def claimable_messages(
        self, now: datetime, received_before: datetime, limit: int = 100
    ) -> list[Message]:
        def free(message: Message) -> bool:
            lease = self._leases.get(message.id)
            return lease[1] < now if lease else message.created_at < received_before

        return [m for m in self._messages if not m.handled and free(m)][:limit]

    # -- one change ----------------------------------------------------------------------------
    async def apply(self, change: Change) -> Applied:
        now = _now()
        if change.dedupe_key and change.dedupe_key[:255] in self._keys:
            return Applied(False)
        new = change.conversation
        stored = self._conversations.get(new.id)
        if stored is None or stored.version != new.version:
            raise StoreConflict(f"conversation {new.id} changed meanwhile")
        handled = change.handled
        if handled is not None and not (
            0 < handled <= len(self._messages) and not self._messages[handled - 1].handled
        ):
            raise StoreConflict(f"message {handled} was handled meanwhile")
        if change.dedupe_key:
            self._keys.add(change.dedupe_key[:255])
        self._conversations[new.id] = replace(
            stored,
            state=new.state,
            holder=new.holder,
            failed_turns=new.failed_turns,
            last_answer_article=new.last_answer_article,
            version=stored.version + 1,
        )
        if change.escalation is not None:
            self._escalations[change.escalation.id] = change.escalation
        added = tuple(self._add(new.id, message, now) for message in change.messages)
        self._audit.extend(change.audit)
        if change.handled is not None:
            index = change.handled - 1
            self._messages[index] = replace(self._messages[index], handled=True)
            self._leases.pop(change.handled, None)
        if change.suggestion is not None:
            question, answer, agent = change.suggestion
            self._suggest(KnowledgeSuggestion(0, question, answer, agent, new.id, "pending", now))
        if change.answered is not None:
            self._answers.append(replace(change.answered, id=len(self._answers) + 1))
        if change.verdict is not None:
            self._judge(change.verdict)
        if change.noted is not None:
            self._noted.append(change.noted)
        return Applied(True, added)

    async def noted_confidences(
        self, limit: int, calibrated_threshold: float, tolerance: float
    ) -> list[float]:
        low, high = calibrated_threshold - tolerance, calibrated_threshold + tolerance
        near = [n.confidence for n in self._noted if low <= n.calibrated_threshold <= high]
        return near[-limit:]

    async def forget_noted(self, keep: int) -> int:
        gone = max(0, len(self._noted) - keep)
        del self._noted[:gone]
        return gone

    async def latest_answer(self, conversation_id: str) -> Answered | None:
        mine = [a for a in self._answers if a.conversation_id == conversation_id]
        return mine[-1] if mine else None

    def _judge(self, verdict: Verdict) -> None:
        """As ``judge_answer``: an agent's verdict always holds, a rejection only a first."""
        index = verdict.answer_id - 1
        old = self._answers[index]
        if verdict.verdict != CUSTOMER_REJECTED or old.verdict is None:
            self._answers[index] = replace(old, verdict=verdict.verdict)

    def _suggest(self, new: KnowledgeSuggestion) -> int:
        """Add a suggestion, or count it on a pending one like it (as ``add_suggestion``)."""
        for old in self._suggestions.values():
            alike = (old.status, old.kind, old.article_id) == (new.status, new.kind, new.article_id)
            if new.status == "pending" and alike and same_question(old.question, new.question):
                self._suggestions[old.id] = replace(old, count=old.count + 1)
                return old.id
        number = len(self._suggestions) + 1
        self._suggestions[number] = replace(new, id=number)
        return number

    async def has_key(self, dedupe_key: str) -> bool:
        return dedupe_key[:255] in self._keys

    # -- escalations and audit -----------------------------------------------------------------
    async def escalation(self, escalation_id: str) -> Escalation | None:
        return self._escalations.get(escalation_id)

    async def active_escalation(self, conversation_id: str) -> Escalation | None:
        mine = [e for e in self._escalations.values() if e.conversation_id == conversation_id]
        return max(mine, key=lambda e: e.created_at, default=None)

    async def escalations(
        self, statuses: Sequence[EscalationStatus], limit: int = 200
    ) -> list[Escalation]:
        chosen = [e for e in self._escalations.values() if e.status in statuses]
        return sorted(chosen, key=lambda e: e.created_at)[:limit]

    async def waiting_escalations(self) -> int:
        return sum(e.status is EscalationStatus.OPEN for e in self._escalations.values())

    async def pickups(self, since: datetime) -> list[Pickup]:
        return [
            Pickup(e.created_at, e.first_action_at)
            for e in self._escalations.values()
            if e.first_action_at is not None and e.first_action_at >= since
        ]

    async def audit(self, conversation_id: str) -> list[AuditEntry]:
        return [a for a in self._audit if a.conversation_id == conversation_id]

    async def escalated_questions(self, reasons: Collection[str], limit: int = 50) -> list[str]:
        if isinstance(reasons, str):
            raise TypeError("reasons is a collection of reason codes, not one string")
        newest = sorted(self._escalations.values(), key=lambda e: e.created_at, reverse=True)
        goals = [e.summary.goal for e in newest[: limit * 4] if set(reasons) & set(e.reasons)]
        return list(dict.fromkeys(goals))[:limit]

    # -- suggestions ---------------------------------------------------------------------------
    async def suggestions(self, status: str = "pending") -> list[KnowledgeSuggestion]:
        return [s for s in self._suggestions.values() if s.status == status]

    async def suggestion(self, suggestion_id: int) -> KnowledgeSuggestion | None:
        return self._suggestions.get(suggestion_id)

    async def set_proposal(self, suggestion_id: int, proposal: dict[str, str]) -> bool:
        suggestion = self._suggestions.get(suggestion_id)
        if suggestion is None or suggestion.status != "pending" or suggestion.proposal:
            return False
        self._suggestions[suggestion_id] = replace(suggestion, proposal=dict(proposal))
        return True

    async def set_suggestion_status(self, suggestion_id: int, old: str, new: str) -> bool:
        suggestion = self._suggestions.get(suggestion_id)
        if suggestion is None or suggestion.status != old:
            return False
        self._suggestions[suggestion_id] = replace(suggestion, status=new)
        return True

    # -- desk accounts -------------------------------------------------------------------------
    async def add_agent(self, account: AgentAccount) -> None:
        self._agents[account.username] = account

    async def agent(self, username: str) -> AgentAccount | None:
        return self._agents.get(username)

    async def create_session(self, token_hash: str, username: str, expires: datetime) -> None:
        self._sessions[token_hash] = (username, expires)

    async def session_agent(self, token_hash: str, now: datetime) -> AgentAccount | None:
        username, expires = self._sessions.get(token_hash, ("", now))
        return self._agents.get(username) if expires > now else None

    async def delete_session(self, token_hash: str) -> None:
        self._sessions.pop(token_hash, None)

    async def close(self) -> None:
        pass

"""The core's ``ConversationStore`` in SQL: conversations, messages, escalations and audit,
and the one transaction that applies a ``Change``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.conversation import (
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    State,
)
from bot.errors import StoreConflict, UnknownConversation
from bot.ports import Applied, Change, NewMessage
from bot.queue import Pickup
from integrations.storage import codec
from integrations.storage.answers import judge_answer
from integrations.storage.database import Connection, Database, utcnow
from integrations.storage.suggestions import add_suggestion
from integrations.storage.tables import (
    action_keys,
    answers,
    audit,
    conversations,
    escalations,
    messages,
    noted_questions,
    outcomes,
)

# The statements of every customer turn, built once: each call only binds its values
# (building a statement costs more Python than SQLite takes to run it).
_CONVERSATION = select(conversations).where(conversations.c.id == bindparam("id"))
_SECRET_HASH = select(conversations.c.secret_hash).where(conversations.c.id == bindparam("id"))
_NEWEST = (
    select(messages)
    .where(messages.c.conversation_id == bindparam("conversation_id"))
    .order_by(messages.c.id.desc())
    .limit(bindparam("count", type_=Integer))
)
_NEWEST_PUBLIC = _NEWEST.where(messages.c.kind.not_in([k.value for k in codec.INTERNAL]))
_INSERT_MESSAGE = insert(messages)
_UPDATE_CONVERSATION = (
    update(conversations)
    .where(
        conversations.c.id == bindparam("match_id"),
        conversations.c.version == bindparam("match_version"),
    )
    .values(
        state=bindparam("state"),
        holder=bindparam("holder"),
        failed_turns=bindparam("failed_turns"),
        last_answer_article=bindparam("last_answer_article"),
        version=conversations.c.version + 1,
        updated_at=bindparam("updated_at"),
    )
)
_MARK_HANDLED = (
    update(messages)
    .where(messages.c.id == bindparam("match_id"), messages.c.handled.is_(False))
    .values(handled=True, lease_owner=None, lease_until=None)
)


class SqlConversations(Database):
    """The ``ConversationStore`` port on a ``Database``."""

    # -- conversations and messages ------------------------------------------------------------
    async def create_conversation(
        self, conversation_id: str, channel: str, secret_hash: str, customer: str | None
    ) -> Conversation:
        now = utcnow()
        row = {
            "id": conversation_id,
            "channel": channel,
            "state": State.BOT.value,
            "version": 0,
            "holder": None,
            "failed_turns": 0,
            "last_answer_article": None,
            "customer": customer,
            "secret_hash": secret_hash,
            "created_at": now,
            "updated_at": now,
        }
        async with self.transaction() as connection:
            await connection.execute(insert(conversations).values(row))
        return codec.conversation(row)

    async def conversation(self, conversation_id: str) -> Conversation | None:
        row = await self.fetch_one(_CONVERSATION, {"id": conversation_id})
        return codec.conversation(row) if row else None

    async def secret_hash(self, conversation_id: str) -> str | None:
        row = await self.fetch_one(_SECRET_HASH, {"id": conversation_id})
        return str(row["secret_hash"]) if row else None

    async def add_customer_message(
        self, conversation_id: str, text: str, lease: tuple[str, datetime] | None = None
    ) -> Message:
        new = NewMessage(Kind.CUSTOMER, text, handled=False)
        try:
            async with self.transaction() as connection:
                return await self._insert_message(connection, conversation_id, new, lease=lease)
        except IntegrityError as error:  # the message's conversation is not there?
            if await self.secret_hash(conversation_id) is None:
                raise UnknownConversation("conversation", conversation_id) from error
            raise

    async def messages(
        self, conversation_id: str, *, after: int = 0, internal: bool = False, limit: int = 500
    ) -> list[Message]:
        query = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id, messages.c.id > after)
            .order_by(messages.c.id)
            .limit(limit)
        )
        if not internal:
            query = query.where(messages.c.kind.not_in([k.value for k in codec.INTERNAL]))
        return [codec.message(r) for r in await self.fetch_all(query)]

    async def recent(
        self, conversation_id: str, count: int, *, internal: bool = False
    ) -> list[Message]:
        query = _NEWEST if internal else _NEWEST_PUBLIC
        rows = await self.fetch_all(query, {"conversation_id": conversation_id, "count": count})
        return [codec.message(r) for r in reversed(rows)]

    async def unhandled_messages(self) -> list[Message]:
        query = select(messages).where(messages.c.handled.is_(False)).order_by(messages.c.id)
        return [codec.message(r) for r in await self.fetch_all(query)]

    # -- leases on unhandled messages -----------------------------------------------------------
    async def claim_message(
        self, message_id: int, owner: str, until: datetime, *, now: datetime
    ) -> bool:
        async with self.transaction() as connection:
            result = await connection.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.handled.is_(False),
                    or_(
                        messages.c.lease_until.is_(None),
                        messages.c.lease_until < now,
                        messages.c.lease_owner == owner,
                    ),
                )
                .values(lease_owner=owner, lease_until=until)
            )
        return bool(result.rowcount == 1)

    async def release_message(self, message_id: int, owner: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def claimable_messages(
        self, now: datetime, received_before: datetime, limit: int = 100
    ) -> list[Message]:
        query = (
            select(messages)
            .where(
                messages.c.handled.is_(False),
                or_(
                    messages.c.lease_until < now,
                    and_(
                        messages.c.lease_until.is_(None),
                        messages.c.created_at < received_before,
                    ),
                ),
            )
            .order_by(messages.c.id)
            .limit(limit)
        )
        return [codec.message(r) for r in await self.fetch_all(query)]

    # -- one transactional change --------------------------------------------------------------
    async def apply(self, change: Change) -> Applied:
        now = utcnow()
        try:
            async with self.transaction() as connection:
                if change.dedupe_key:
                    await connection.execute(
                        insert(action_keys).values(key=change.dedupe_key[:255], created_at=now)
                    )
                await self._update_conversation(connection, change.conversation, now)
                if change.escalation is not None:
                    await self._upsert_escalation(connection, change.escalation)
                added = [
                    await self._insert_message(connection, change.conversation.id, new, now)
                    for new in change.messages
                ]
                for entry in change.audit:
                    await connection.execute(insert(audit).values(codec.audit_row(entry)))
                if change.handled is not None:
                    await self._mark_handled(connection, change.handled)
                if change.outcome is not None:
                    row = codec.outcome_row(change.outcome)
                    await connection.execute(insert(outcomes).values(row))
                if change.answered is not None:
                    row = codec.answered_row(change.answered)
                    await connection.execute(insert(answers).values(row))
                if change.verdict is not None:
                    await judge_answer(connection, change.verdict)
                if change.noted is not None:
                    row = codec.noted_row(change.noted, now)
                    await connection.execute(insert(noted_questions).values(row))
                if change.suggestion is not None:
                    question, answer, agent = change.suggestion
                    row = {"question": question, "answer": answer, "agent": agent}
                    row |= {"conversation_id": change.conversation.id, "created_at": now}
                    await add_suggestion(connection, row)
        except IntegrityError:
            if change.dedupe_key and await self.has_key(change.dedupe_key):
                return Applied(False)
            raise
        return Applied(True, tuple(added))

    async def _update_conversation(
        self, connection: Connection, conversation: Conversation, now: datetime
    ) -> None:
        result = await connection.execute(
            _UPDATE_CONVERSATION,
            {
                "match_id": conversation.id,
                "match_version": conversation.version,
                "state": conversation.state.value,
                "holder": conversation.holder,
                "failed_turns": conversation.failed_turns,
                "last_answer_article": conversation.last_answer_article,
                "updated_at": now,
            },
        )
        if result.rowcount != 1:
            raise StoreConflict(f"conversation {conversation.id} changed meanwhile")

    async def _mark_handled(self, connection: Connection, message_id: int) -> None:
        result = await connection.execute(_MARK_HANDLED, {"match_id": message_id})
        if result.rowcount != 1:
            raise StoreConflict(f"message {message_id} was handled meanwhile")

    async def _upsert_escalation(self, connection: Connection, escalation: Escalation) -> None:
        row = codec.escalation_row(escalation)
        result = await connection.execute(
            update(escalations).where(escalations.c.id == escalation.id).values(row)
        )
        if result.rowcount == 0:
            await connection.execute(insert(escalations).values(row))

    async def _insert_message(
        self,
        connection: Connection,
        conversation_id: str,
        new: NewMessage,
        now: datetime | None = None,
        *,
        lease: tuple[str, datetime] | None = None,
    ) -> Message:
        row: dict[str, Any] = {
            "conversation_id": conversation_id,
            "kind": new.kind.value,
            "text": new.text,
            "sources": [{"title": s.title, "url": s.url} for s in new.sources],
            "author": new.author,
            "author_id": new.author_id,
            "handled": new.handled,
            "created_at": now or utcnow(),
        }
        row["lease_owner"], row["lease_until"] = lease or (None, None)
        result = await connection.execute(_INSERT_MESSAGE, row)
        row["id"] = result.inserted_primary_key[0]  # type: ignore[index]
        return codec.message(row)

    # -- escalations and audit -----------------------------------------------------------------
    async def escalation(self, escalation_id: str) -> Escalation | None:
        row = await self.fetch_one(select(escalations).where(escalations.c.id == escalation_id))
        return codec.escalation(row) if row else None

    async def active_escalation(self, conversation_id: str) -> Escalation | None:
        row = await self.fetch_one(
            select(escalations)
            .where(escalations.c.conversation_id == conversation_id)
            .order_by(escalations.c.created_at.desc())
            .limit(1)
        )
        return codec.escalation(row) if row else None

    async def escalations(
        self, statuses: Sequence[EscalationStatus], limit: int = 200
    ) -> list[Escalation]:
        query = (
            select(escalations)
            .where(escalations.c.status.in_([s.value for s in statuses]))
            .order_by(escalations.c.created_at)
            .limit(limit)
        )
        return [codec.escalation(r) for r in await self.fetch_all(query)]

    async def waiting_escalations(self) -> int:
        query = select(func.count()).where(escalations.c.status == EscalationStatus.OPEN.value)
        async with self.reading() as connection:
            return int(await connection.scalar(query) or 0)

    async def pickups(self, since: datetime) -> list[Pickup]:
        query = select(escalations.c.created_at, escalations.c.first_action_at).where(
            escalations.c.first_action_at >= since
        )
        return [Pickup(r["created_at"], r["first_action_at"]) for r in await self.fetch_all(query)]

    async def audit(self, conversation_id: str) -> list[AuditEntry]:
        query = select(audit).where(audit.c.conversation_id == conversation_id).order_by(audit.c.id)
        return [codec.audit_entry(r) for r in await self.fetch_all(query)]

    async def escalated_questions(self, reasons: Collection[str], limit: int = 50) -> list[str]:
        """Recent customer questions that escalated for any of ``reasons`` (knowledge gaps)."""
        if isinstance(reasons, str):  # a bare reason would match its letters
            raise TypeError("reasons is a collection of reason codes, not one string")
        query = (
            select(escalations.c.summary, escalations.c.reasons)
            .order_by(escalations.c.created_at.desc())
            .limit(limit * 4)
        )
        rows = await self.fetch_all(query)
        goals = [r["summary"]["goal"] for r in rows if set(reasons) & set(r["reasons"])]
        return list(dict.fromkeys(goals))[:limit]

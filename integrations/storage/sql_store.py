"""``ConversationStore`` on SQLAlchemy 2 async: one code path for SQLite and Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

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
from bot.ports import AgentAccount, Applied, Change, NewMessage
from integrations.storage import codec
from integrations.storage.migrate import migrate
from integrations.storage.tables import (
    action_keys,
    agents,
    audit,
    conversations,
    escalations,
    messages,
    outcomes,
    sessions,
    suggestions,
)


def _now() -> datetime:
    return datetime.now(UTC)


async def open_store(url: str) -> SqlStore:
    """Connect, run the migrations up to head, and return the store."""
    sqlite = url.startswith("sqlite")
    engine = create_async_engine(
        url,
        connect_args={"timeout": 30} if sqlite else {},
        pool_pre_ping=not sqlite,
    )
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    async with engine.begin() as connection:
        await connection.run_sync(migrate)
    return SqlStore(engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqlStore:
    """Conversations, messages, escalations, audit, suggestions and desk accounts in SQL.

    Args:
        engine: An async engine whose schema is migrated.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite allows one writer: queueing writers here avoids its busy-wait sleeps.
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (queued behind other writers on SQLite)."""
        if self._writer is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._writer, self.engine.begin() as connection:
            yield connection

    async def close(self) -> None:
        await self.engine.dispose()

    # -- conversations and messages ------------------------------------------------------------
    async def create_conversation(
        self, conversation_id: str, channel: str, secret_hash: str, customer: str | None
    ) -> Conversation:
        now = _now()
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
        row = await self._one(select(conversations).where(conversations.c.id == conversation_id))
        return codec.conversation(row) if row else None

    async def secret_hash(self, conversation_id: str) -> str | None:
        row = await self._one(
            select(conversations.c.secret_hash).where(conversations.c.id == conversation_id)
        )
        return str(row["secret_hash"]) if row else None

    async def add_customer_message(self, conversation_id: str, text: str) -> Message:
        async with self.transaction() as connection:
            exists = await connection.scalar(
                select(conversations.c.id).where(conversations.c.id == conversation_id)
            )
            if exists is None:
                raise UnknownConversation("conversation", conversation_id)
            new = NewMessage(Kind.CUSTOMER, text, handled=False)
            return await self._insert_message(connection, conversation_id, new)

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
        return [codec.message(r) for r in await self._all(query)]

    async def recent(
        self, conversation_id: str, count: int, *, internal: bool = False
    ) -> list[Message]:
        query = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.id.desc())
            .limit(count)
        )
        if not internal:
            query = query.where(messages.c.kind.not_in([k.value for k in codec.INTERNAL]))
        return [codec.message(r) for r in reversed(await self._all(query))]

    async def unhandled_messages(self) -> list[Message]:
        query = select(messages).where(messages.c.handled.is_(False)).order_by(messages.c.id)
        return [codec.message(r) for r in await self._all(query)]

    # -- one transactional change --------------------------------------------------------------
    async def apply(self, change: Change) -> Applied:
        now = _now()
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
                    await connection.execute(
                        update(messages).where(messages.c.id == change.handled).values(handled=True)
                    )
                if change.outcome is not None:
                    await connection.execute(
                        insert(outcomes).values(codec.outcome_row(change.outcome))
                    )
                if change.suggestion is not None:
                    question, answer, agent = change.suggestion
                    await connection.execute(
                        insert(suggestions).values(
                            question=question,
                            answer=answer,
                            agent=agent,
                            status="pending",
                            conversation_id=change.conversation.id,
                            created_at=now,
                        )
                    )
        except IntegrityError:
            if change.dedupe_key and await self.has_key(change.dedupe_key):
                return Applied(False)
            raise
        return Applied(True, tuple(added))

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed, across every replica on this database."""
        try:
            async with self.transaction() as connection:
                await connection.execute(
                    insert(action_keys).values(key=key[:255], created_at=_now())
                )
        except IntegrityError:
            return False
        return True

    async def has_key(self, dedupe_key: str) -> bool:
        row = await self._one(
            select(action_keys.c.key).where(action_keys.c.key == dedupe_key[:255])
        )
        return row is not None

    async def _update_conversation(
        self, connection: AsyncConnection, conversation: Conversation, now: datetime
    ) -> None:
        result = await connection.execute(
            update(conversations)
            .where(
                conversations.c.id == conversation.id,
                conversations.c.version == conversation.version,
            )
            .values(
                state=conversation.state.value,
                holder=conversation.holder,
                failed_turns=conversation.failed_turns,
                last_answer_article=conversation.last_answer_article,
                version=conversations.c.version + 1,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            raise StoreConflict(f"conversation {conversation.id} changed meanwhile")

    async def _upsert_escalation(self, connection: AsyncConnection, escalation: Escalation) -> None:
        row = codec.escalation_row(escalation)
        result = await connection.execute(
            update(escalations).where(escalations.c.id == escalation.id).values(row)
        )
        if result.rowcount == 0:
            await connection.execute(insert(escalations).values(row))

    async def _insert_message(
        self,
        connection: AsyncConnection,
        conversation_id: str,
        new: NewMessage,
        now: datetime | None = None,
    ) -> Message:
        row: dict[str, Any] = {
            "conversation_id": conversation_id,
            "kind": new.kind.value,
            "text": new.text,
            "sources": [{"title": s.title, "url": s.url} for s in new.sources],
            "author": new.author,
            "handled": new.handled,
            "created_at": now or _now(),
        }
        result = await connection.execute(insert(messages).values(row))
        row["id"] = result.inserted_primary_key[0]  # type: ignore[index]
        return codec.message(row)

    # -- escalations and audit -----------------------------------------------------------------
    async def escalation(self, escalation_id: str) -> Escalation | None:
        row = await self._one(select(escalations).where(escalations.c.id == escalation_id))
        return codec.escalation(row) if row else None

    async def active_escalation(self, conversation_id: str) -> Escalation | None:
        row = await self._one(
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
        return [codec.escalation(r) for r in await self._all(query)]

    async def waiting_escalations(self) -> int:
        query = select(func.count()).where(escalations.c.status == EscalationStatus.OPEN.value)
        async with self.engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    async def audit(self, conversation_id: str) -> list[AuditEntry]:
        query = select(audit).where(audit.c.conversation_id == conversation_id).order_by(audit.c.id)
        return [codec.audit_entry(r) for r in await self._all(query)]

    async def escalated_questions(self, reason: str, limit: int = 50) -> list[str]:
        """Recent customer questions that escalated for ``reason`` (knowledge gaps)."""
        query = (
            select(escalations.c.summary, escalations.c.reasons)
            .order_by(escalations.c.created_at.desc())
            .limit(limit * 4)
        )
        rows = await self._all(query)
        goals = [r["summary"]["goal"] for r in rows if reason in r["reasons"]]
        return list(dict.fromkeys(goals))[:limit]

    # -- suggestions ---------------------------------------------------------------------------
    async def suggestions(self, status: str = "pending") -> list[KnowledgeSuggestion]:
        query = select(suggestions).where(suggestions.c.status == status).order_by(suggestions.c.id)
        return [KnowledgeSuggestion(**r) for r in await self._all(query)]

    async def set_suggestion_status(self, suggestion_id: int, old: str, new: str) -> bool:
        async with self.transaction() as connection:
            result = await connection.execute(
                update(suggestions)
                .where(suggestions.c.id == suggestion_id, suggestions.c.status == old)
                .values(status=new)
            )
        return result.rowcount == 1

    # -- desk accounts -------------------------------------------------------------------------
    async def add_agent(self, account: AgentAccount) -> None:
        async with self.transaction() as connection:
            updated = await connection.execute(
                update(agents)
                .where(agents.c.username == account.username)
                .values(display_name=account.display_name, password_hash=account.password_hash)
            )
            if updated.rowcount == 0:
                await connection.execute(
                    insert(agents).values(
                        username=account.username,
                        display_name=account.display_name,
                        password_hash=account.password_hash,
                        created_at=_now(),
                    )
                )

    async def agent(self, username: str) -> AgentAccount | None:
        row = await self._one(select(agents).where(agents.c.username == username))
        return (
            AgentAccount(row["username"], row["display_name"], row["password_hash"])
            if row
            else None
        )

    async def create_session(self, token_hash: str, username: str, expires: datetime) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                insert(sessions).values(
                    token_hash=token_hash, username=username, expires_at=expires
                )
            )

    async def session_agent(self, token_hash: str, now: datetime) -> AgentAccount | None:
        row = await self._one(
            select(agents)
            .join(sessions, sessions.c.username == agents.c.username)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
        )
        return (
            AgentAccount(row["username"], row["display_name"], row["password_hash"])
            if row
            else None
        )

    async def delete_session(self, token_hash: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(sessions.delete().where(sessions.c.token_hash == token_hash))

    async def count(self, table: str) -> int:
        """Rows in a table (for tests and stats)."""
        tables = {
            "conversations": conversations,
            "messages": messages,
            "escalations": escalations,
            "agents": agents,
        }
        async with self.engine.connect() as connection:
            return int(
                await connection.scalar(select(func.count()).select_from(tables[table])) or 0
            )

    # -- helpers -------------------------------------------------------------------------------
    async def _one(self, query: Any) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return dict(row) if row else None

    async def _all(self, query: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            return [dict(r) for r in (await connection.execute(query)).mappings().all()]

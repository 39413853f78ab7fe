"""The database every SQL store shares: the engine (SQLite or Postgres, migrated to head),
write transactions, idempotency keys and small query helpers. Each concern's store
(``conversations``, ``accounts``, ``suggestions``, ``posts``, ``references``) builds on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from integrations.storage.migrate import migrate
from integrations.storage.tables import action_keys, agents, conversations, escalations, messages


def utcnow() -> datetime:
    return datetime.now(UTC)


async def open_engine(url: str) -> AsyncEngine:
    """Connect and run the migrations up to head."""
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
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """A migrated database.

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

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed, across every replica on this database."""
        try:
            async with self.transaction() as connection:
                await connection.execute(
                    insert(action_keys).values(key=key[:255], created_at=utcnow())
                )
        except IntegrityError:
            return False
        return True

    async def has_key(self, dedupe_key: str) -> bool:
        row = await self.fetch_one(
            select(action_keys.c.key).where(action_keys.c.key == dedupe_key[:255])
        )
        return row is not None

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

    async def fetch_one(self, query: Any) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return dict(row) if row else None

    async def fetch_all(self, query: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            return [dict(r) for r in (await connection.execute(query)).mappings().all()]

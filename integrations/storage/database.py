"""The database every SQL store shares: the engine (SQLite or Postgres, migrated to head),
write transactions, idempotency keys and small query helpers. Each concern's store
(``conversations``, ``accounts``, ``suggestions``, ``posts``, ``references``) builds on it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection as SyncConnection
from sqlalchemy import CursorResult, Engine, create_engine, event, func, insert, make_url, select
from sqlalchemy.engine import RootTransaction
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.expression import Executable

from integrations.storage.migrate import migrate
from integrations.storage.tables import action_keys, agents, conversations, escalations, messages

logger = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 5  # how long a write waits for another process's (the CLI's) write lock
CHECKPOINT_EVERY = 200  # write transactions between two checkpoints of SQLite's log
READER = "tandem_reader"  # execution option of connections that only read (no BEGIN)
LOCK_RETRY_S = (0.001, 0.1)  # first and longest wait between tries for another process's lock


def utcnow() -> datetime:
    return datetime.now(UTC)


class Connection(Protocol):
    """What a transaction's body sees: an ``AsyncConnection`` on Postgres, the inline SQLite
    connection on SQLite."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run one statement."""

    async def scalar(self, statement: Executable) -> Any:
        """Run one statement and return the first column of its first row."""


class InlineConnection:
    """A synchronous SQLite connection behind the async ``Connection`` interface.

    SQLite answers an indexed read or a write to its write-ahead log in tens of microseconds,
    far less than a hop to a driver thread and back (aiosqlite makes one per call, about ten
    per transaction). So on SQLite every statement runs on the event loop's own thread, and a
    body that awaits only its connection never yields: a transaction is one uninterrupted step.
    """

    def __init__(self, connection: SyncConnection) -> None:
        self._connection = connection

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self._connection.execute(statement, parameters)

    async def scalar(self, statement: Executable) -> Any:
        return self._connection.scalar(statement)


async def open_engine(url: str) -> AsyncEngine | Engine:
    """Connect and run the migrations up to head: an async engine on Postgres, a synchronous
    one (``InlineConnection``) on SQLite."""
    if not url.startswith("sqlite"):
        engine = create_async_engine(url, pool_pre_ping=True)
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        return engine
    sqlite_url = make_url(url).set(drivername="sqlite")
    if sqlite_url.database in (None, "", ":memory:"):
        raise ValueError(
            "SQLite needs a file (sqlite:///path/tandem.db), not an in-memory database"
        )
    sync = create_engine(
        sqlite_url,
        # The driver in autocommit: reads see the latest commit, writes say BEGIN IMMEDIATE.
        connect_args={"timeout": BUSY_TIMEOUT_S, "isolation_level": None},
        poolclass=NullPool,
    )
    event.listen(sync, "connect", _sqlite_pragmas)
    event.listen(sync, "begin", _begin_immediate)
    with sync.begin() as connection:
        migrate(connection)
    return sync


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints (they write the database file and sync it) run off the event loop.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _begin_immediate(connection: SyncConnection) -> None:
    # Take the write lock at the start, so a write never fails halfway on another writer.
    # (An execution option, not ``connection.info``: it survives a reconnect.)
    if not connection.get_execution_options().get(READER, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class _Sqlite:
    """SQLite's two long-lived connections (one writes, one reads) and its log checkpoints."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writes = engine.connect()
        # The writer never waits in SQLite's busy handler, which would block the event loop:
        # ``writing`` waits for another process's lock asynchronously instead.
        self._writes.exec_driver_sql("PRAGMA busy_timeout=0")
        self._writes.commit()
        self._writer = InlineConnection(self._writes)
        self._lock = asyncio.Lock()  # for bodies that await something besides the connection
        self._holder: asyncio.Task[Any] | None = None  # the task inside ``writing``
        self._reads = engine.connect().execution_options(**{READER: True})
        self.reads = InlineConnection(self._reads)
        self._since_checkpoint = 0
        self._checkpoint: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Connection]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            # The lock is not re-entrant: waiting for it here would hang this task for ever.
            raise RuntimeError("a write transaction was opened inside another one")
        async with self._lock:
            self._holder = task
            try:
                with await self._begin():
                    yield self._writer
            finally:
                self._holder = None
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and self._checkpoint is None:
            self._since_checkpoint = 0
            self._checkpoint = asyncio.create_task(asyncio.to_thread(self._checkpoint_log))
            self._checkpoint.add_done_callback(self._checkpointed)

    async def _begin(self) -> RootTransaction:
        """BEGIN IMMEDIATE, waiting (without blocking the loop) while another process writes."""
        waited, pause = 0.0, LOCK_RETRY_S[0]
        while True:
            try:
                return self._writes.begin()
            except OperationalError as error:
                self._writes.rollback()
                if "locked" not in str(error) or waited >= BUSY_TIMEOUT_S:
                    raise
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, LOCK_RETRY_S[1])

    def read_failed(self) -> None:
        """End the reader's transaction after an error (else every later read fails)."""
        self._reads.rollback()

    def _checkpoint_log(self) -> None:
        with self.engine.connect().execution_options(**{READER: True}) as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpointed(self, task: asyncio.Task[None]) -> None:
        self._checkpoint = None
        if not task.cancelled() and task.exception() is not None:
            logger.warning("sqlite checkpoint failed: %s", task.exception())

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
        self._reads.close()
        self._writes.close()


class Database:
    """A migrated database.

    Args:
        engine: An async engine (Postgres) or a synchronous SQLite engine, migrated to head.
    """

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self.engine = engine
        self._sqlite: _Sqlite | None = _Sqlite(engine) if isinstance(engine, Engine) else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A write transaction: committed when the body ends, rolled back if it raises."""
        if self._sqlite is not None:
            async with self._sqlite.writing() as connection:
                yield connection
            return
        assert isinstance(self.engine, AsyncEngine)
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection]:
        """A connection for reads (each sees the latest commit). Read every result whole
        (``first``, ``all``, ``scalar``): on SQLite a result left half read would hold an old
        snapshot for every later read."""
        if self._sqlite is not None:
            try:
                yield self._sqlite.reads
            except BaseException:
                self._sqlite.read_failed()
                raise
            return
        assert isinstance(self.engine, AsyncEngine)
        async with self.engine.connect() as connection:
            yield connection

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        elif isinstance(self.engine, AsyncEngine):
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
        async with self.reading() as connection:
            return int(
                await connection.scalar(select(func.count()).select_from(tables[table])) or 0
            )

    async def fetch_one(self, query: Any, values: Any = None) -> dict[str, Any] | None:
        """The first row of ``query`` (with bound ``values``, if any), or None."""
        async with self.reading() as connection:
            row = (await connection.execute(query, values)).mappings().first()
        return dict(row) if row else None

    async def fetch_all(self, query: Any, values: Any = None) -> list[dict[str, Any]]:
        """Every row of ``query`` (with bound ``values``, if any)."""
        async with self.reading() as connection:
            return [dict(r) for r in (await connection.execute(query, values)).mappings().all()]

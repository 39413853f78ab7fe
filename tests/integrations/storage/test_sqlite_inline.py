"""SQLite runs its statements on the event loop: writes take the lock up front, reads see the
latest commit, and the log's checkpoints run on a worker thread, never on the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from pytest_mock import MockerFixture
from sqlalchemy import select, text

from integrations.storage import database, open_store
from integrations.storage.tables import action_keys


async def test_an_async_driver_url_of_earlier_releases_still_opens(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        assert await store.claim("first")
        assert not await store.claim("first")
    finally:
        await store.close()


async def test_a_read_sees_a_write_committed_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = await open_store(f"sqlite:///{path}")
    try:
        assert not await store.has_key("from-cli")
        with sqlite3.connect(path) as other:  # the CLI, say
            other.execute("INSERT INTO action_keys (key, created_at) VALUES ('from-cli', '2026')")
        assert await store.has_key("from-cli")
    finally:
        await store.close()


async def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'rollback.db'}")
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction() as connection:
                await connection.execute(
                    action_keys.insert().values(key="half", created_at=database.utcnow())
                )
                raise RuntimeError("the body failed")
        assert await store.fetch_all(select(action_keys)) == []
        assert await store.claim("after")  # the write connection is usable again
    finally:
        await store.close()


async def test_checkpoints_run_on_a_worker_thread(tmp_path: Path, mocker: MockerFixture) -> None:
    mocker.patch.object(database, "CHECKPOINT_EVERY", 3)
    threads: list[threading.Thread] = []
    real = database._Sqlite._checkpoint_log

    def checkpoint(self: database._Sqlite) -> None:
        threads.append(threading.current_thread())
        real(self)

    mocker.patch.object(database._Sqlite, "_checkpoint_log", checkpoint)
    store = await open_store(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        for key in ("a", "b", "c"):
            assert await store.claim(key)
        for _ in range(100):
            if threads:
                break
            await asyncio.sleep(0.02)
        assert threads and threads[0] is not threading.current_thread()
        async with store.reading() as connection:
            autocheckpoint = await connection.scalar(text("PRAGMA wal_autocheckpoint"))
        assert autocheckpoint == 0  # SQLite never checkpoints on the loop by itself
    finally:
        await store.close()


async def test_a_write_waits_for_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = await open_store(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the CLI, say, in the middle of a write
        claim = asyncio.create_task(store.claim("waited"))
        ticks = 0
        for _ in range(10):  # the loop keeps turning while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10 and not claim.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(claim, 5)
        assert await store.has_key("waited")
    finally:
        other.close()
        await store.close()


async def test_a_memory_database_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="SQLite needs a file"):
        await open_store("sqlite:///:memory:")


async def test_a_nested_write_transaction_fails_at_once_rather_than_hanging(
    tmp_path: Path,
) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'nested.db'}")
    try:
        with pytest.raises(RuntimeError, match="inside another one"):
            async with store.transaction():
                async with asyncio.timeout(2):
                    await store.claim("inner")
        assert not await store.has_key("inner")
        # Another task waits its turn as before, and the lock is free afterwards.
        async with store.transaction():
            other = asyncio.create_task(store.claim("other"))
            await asyncio.sleep(0.05)
            assert not other.done()
        assert await other
        assert await store.claim("after")
    finally:
        await store.close()

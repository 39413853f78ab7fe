"""Migrations: ``HEAD`` names the newest revision, a new database is migrated to it, and one
already there is opened without loading Alembic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from integrations.storage.migrate import HEAD, MIGRATIONS, current_revision, migrate
from tests.integrations.storage.test_store_contract import database_url

T = TypeVar("T")


def test_head_is_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_new_database_is_migrated_to_head(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with caplog.at_level("INFO"), engine.begin() as connection:
        assert current_revision(connection) is None
        migrate(connection)
        assert current_revision(connection) == HEAD
    upgraded = [r for r in caplog.records if r.getMessage() == "database schema upgraded"]
    assert len(upgraded) == 1, "one line for all the migrations run"
    assert (upgraded[0].from_revision, upgraded[0].to_revision) == (None, HEAD)


def test_a_database_a_newer_release_migrated_still_opens(tmp_path: Path) -> None:
    """A rollback, or an older replica restarting during a rolling deploy: the newer schema
    only adds, so this release starts on it instead of failing on an unknown revision."""
    engine = create_engine(f"sqlite:///{tmp_path / 'newer.db'}")
    with engine.begin() as connection:
        migrate(connection)
        newer = f"{int(HEAD) + 1:04d}"
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": newer})
        migrate(connection)
        assert current_revision(connection) == newer


def test_a_database_at_head_opens_without_alembic(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'head.db'}")
    with engine.begin() as connection:
        migrate(connection)
    opened = (
        "import sys; from sqlalchemy import create_engine;"
        "from integrations.storage.migrate import migrate;"
        f"c = create_engine('sqlite:///{tmp_path / 'head.db'}').connect(); migrate(c);"
        "print('alembic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", opened], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "False"


def _before_the_outbox(connection: Connection) -> None:
    """A database at 0007 holding a Bot Framework customer's conversation with replies."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "0007")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    connection.execute(
        text(
            "INSERT INTO conversations (id, channel, state, version, failed_turns, secret_hash, "
            "created_at, updated_at) VALUES ('c1', 'botframework', 'bot', 1, 0, 'h', :t, :t)"
        ),
        {"t": now},
    )
    for kind in ("customer", "answer", "customer", "answer"):
        connection.execute(
            text(
                "INSERT INTO messages (conversation_id, kind, text, sources, handled, created_at)"
                " VALUES ('c1', :kind, 'x', '[]', true, :t)"
            ),
            {"kind": kind, "t": now},
        )
    for key, conversation in (("customer:webchat:1", "c1"), ("agent-channel", None)):
        connection.execute(
            text(
                "INSERT INTO bot_references (key, conversation_id, reference, updated_at) "
                "VALUES (:key, :conversation, '{}', :t)"
            ),
            {"key": key, "conversation": conversation, "t": now},
        )


def _delivered_through(connection: Connection) -> dict[str, int]:
    rows = connection.execute(text("SELECT key, delivered_through FROM bot_references"))
    return {str(key): int(through) for key, through in rows}


def _upgrade_with_replies(connection: Connection) -> tuple[int, dict[str, int]]:
    _before_the_outbox(connection)
    migrate(connection)
    newest = connection.execute(text("SELECT MAX(id) FROM messages")).scalar()
    return int(newest or 0), _delivered_through(connection)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_replies_sent_before_the_outbox_are_not_sent_again(kind: str, tmp_path: Path) -> None:
    async with database_url(kind, tmp_path) as url:
        if kind == "sqlite":
            with create_engine(url).begin() as connection:
                newest, delivered = _upgrade_with_replies(connection)
        else:
            engine = create_async_engine(url)
            try:
                async with engine.begin() as connection:
                    newest, delivered = await connection.run_sync(_upgrade_with_replies)
            finally:
                await engine.dispose()
    assert newest > 0
    assert delivered == {"customer:webchat:1": newest, "agent-channel": 0}


async def _on_database(kind: str, tmp_path: Path, run: Callable[[Connection], T]) -> T:
    """``run`` in one transaction on a fresh SQLite or Postgres database."""
    async with database_url(kind, tmp_path) as url:
        if kind == "sqlite":
            with create_engine(url).begin() as connection:
                return run(connection)
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(run)
        finally:
            await engine.dispose()


def _upgrade_with_rejections(connection: Connection) -> dict[int, str | None]:
    """A database at 0009: two answers of one article in a conversation, the later one
    rejected; an answer nobody judged in another; two answers, each rejected, in a third;
    then migrated to head."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "0009")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    answered = (("c1", 0), ("c1", 5), ("c2", 6), ("c3", 1), ("c3", 3))
    for number, (conversation, minutes) in enumerate(answered, 1):
        connection.execute(
            text(
                "INSERT INTO answers (id, conversation_id, article_id, confidence, at) "
                "VALUES (:id, :conversation, 'delivery', 0.8, :at)"
            ),
            {"id": number, "conversation": conversation, "at": now + timedelta(minutes=minutes)},
        )
    for conversation, minutes in (("c1", 7), ("c3", 2), ("c3", 4)):  # c3: both rejected
        connection.execute(
            text(
                "INSERT INTO outcomes (question, article_id, confidence, correct, source, "
                "conversation_id, at) VALUES ('when?', 'delivery', 0.7, false, "
                "'customer_rejected', :conversation, :at)"
            ),
            {"conversation": conversation, "at": now + timedelta(minutes=minutes)},
        )
    migrate(connection)
    rows = connection.execute(text("SELECT id, verdict FROM answers ORDER BY id"))
    return {int(number): verdict for number, verdict in rows}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_answers_rejected_before_verdicts_keep_their_rejection(
    kind: str, tmp_path: Path
) -> None:
    verdicts = await _on_database(kind, tmp_path, _upgrade_with_rejections)
    rejected = "customer_rejected"
    assert verdicts == {1: None, 2: rejected, 3: None, 4: rejected, 5: rejected}


def _answer_reviews_round_trip(connection: Connection) -> list[tuple[object, ...]]:
    """A database at 0010 with an answer, migrated to head (it gains a question and a review,
    both empty), down to 0010 and up again."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "0010")
    connection.execute(
        text(
            "INSERT INTO answers (id, conversation_id, article_id, confidence, at, verdict) "
            "VALUES (1, 'c1', 'delivery', 0.8, :at, 'customer_rejected')"
        ),
        {"at": datetime(2026, 12, 1, tzinfo=UTC)},
    )
    migrate(connection)
    command.downgrade(config, "0010")
    command.upgrade(config, "head")
    rows = connection.execute(text("SELECT id, verdict, question, review, reviewer FROM answers"))
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_answers_gain_a_question_and_a_review_and_lose_them_on_downgrade(
    kind: str, tmp_path: Path
) -> None:
    rows = await _on_database(kind, tmp_path, _answer_reviews_round_trip)
    assert rows == [(1, "customer_rejected", None, None, None)]

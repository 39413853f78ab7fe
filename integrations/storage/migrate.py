"""Run the Alembic migrations to head on a connection (at start-up, before serving).

A database already at ``HEAD`` is left alone without loading Alembic (about 10 MB of a
server's memory); a test keeps ``HEAD`` equal to the newest migration."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0013"  # the newest revision in migrations/versions
logger = logging.getLogger(__name__)
LOCK_ID = 7_240_311  # pg advisory lock: replicas starting together migrate one at a time


def migrate(connection: Connection) -> None:
    """Upgrade the schema to head; safe to call from several replicas at once on Postgres."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    current = current_revision(connection)
    if current == HEAD:
        return
    if current is not None and current.isdigit() and int(current) > int(HEAD):
        # A newer release migrated it (a rolling deploy, or a rollback): its migrations only
        # add tables and columns, which this release does not read.
        logger.warning("database schema is newer than this release", extra={"revision": current})
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    logger.info("database schema upgraded", extra={"from_revision": current, "to_revision": HEAD})


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None before the first migration)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

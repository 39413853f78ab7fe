"""Run the Alembic migrations to head on a connection (at start-up, before serving)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 7_240_311  # pg advisory lock: replicas starting together migrate one at a time


def migrate(connection: Connection) -> None:
    """Upgrade the schema to head; safe to call from several replicas at once on Postgres."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")

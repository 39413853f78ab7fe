"""The conversation store on SQLAlchemy 2 (async): SQLite by default, Postgres by URL."""

from integrations.storage.sql_store import SqlStore, open_store

__all__ = ["SqlStore", "open_store"]

"""The SQL store on SQLAlchemy 2 async, one code path for SQLite and Postgres: the core's
``ConversationStore`` plus the desk's accounts, the learned suggestions, the bot's answers and the
traffic window, each written in its own module over one ``Database``."""

from __future__ import annotations

from integrations.storage.accounts import SqlAccounts
from integrations.storage.answers import SqlAnswers
from integrations.storage.conversations import SqlConversations
from integrations.storage.database import open_engine
from integrations.storage.suggestions import SqlSuggestions
from integrations.storage.traffic import SqlTraffic


class SqlStore(SqlConversations, SqlAccounts, SqlSuggestions, SqlAnswers, SqlTraffic):
    """Conversations, messages, escalations, audit, suggestions, answers, the noted questions
    and desk accounts in SQL.

    Args:
        engine: An async engine whose schema is migrated.
    """


async def open_store(url: str) -> SqlStore:
    """Connect, run the migrations up to head, and return the store."""
    return SqlStore(await open_engine(url))

"""Stored Bot Framework conversation references, for proactive messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from integrations.storage.database import Database
from integrations.storage.tables import bot_references


class ReferenceStore:
    """Args:
    store: The conversation store whose database holds the references.
    """

    def __init__(self, store: Database) -> None:
        self.store = store

    async def save(
        self, key: str, reference: dict[str, Any], conversation_id: str | None = None
    ) -> None:
        values = {"reference": reference, "updated_at": datetime.now(UTC)}
        if conversation_id is not None:
            values["conversation_id"] = conversation_id
        async with self.store.transaction() as connection:
            result = await connection.execute(
                update(bot_references).where(bot_references.c.key == key).values(values)
            )
            if result.rowcount == 0:
                await connection.execute(insert(bot_references).values(key=key, **values))

    async def get(self, key: str) -> tuple[dict[str, Any], str | None] | None:
        row = await self._one(select(bot_references).where(bot_references.c.key == key))
        return (row["reference"], row["conversation_id"]) if row else None

    async def for_conversation(self, conversation_id: str) -> dict[str, Any] | None:
        row = await self._one(
            select(bot_references).where(bot_references.c.conversation_id == conversation_id)
        )
        return row["reference"] if row else None

    async def _one(self, query: Any) -> dict[str, Any] | None:
        async with self.store.reading() as connection:
            row = (await connection.execute(query)).mappings().first()
        return dict(row) if row else None

"""Learned answers awaiting an admin, in SQL (the ``SuggestionStore`` of
``integrations.learning``). The engine writes them as part of a ``Change``."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.conversation import KnowledgeSuggestion
from integrations.storage.database import Database
from integrations.storage.tables import suggestions


class SqlSuggestions(Database):
    """Suggestions on a ``Database``."""

    # -- suggestions ---------------------------------------------------------------------------
    async def suggestions(self, status: str = "pending") -> list[KnowledgeSuggestion]:
        query = select(suggestions).where(suggestions.c.status == status).order_by(suggestions.c.id)
        return [KnowledgeSuggestion(**r) for r in await self.fetch_all(query)]

    async def set_suggestion_status(self, suggestion_id: int, old: str, new: str) -> bool:
        async with self.transaction() as connection:
            result = await connection.execute(
                update(suggestions)
                .where(suggestions.c.id == suggestion_id, suggestions.c.status == old)
                .values(status=new)
            )
        return result.rowcount == 1

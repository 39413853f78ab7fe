"""Learned answers awaiting an admin, in SQL (the ``SuggestionStore`` of
``integrations.learning``). The engine writes them as part of a ``Change``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from bot.conversation import KnowledgeSuggestion
from bot.learning import same_question
from integrations.storage.database import Connection, Database
from integrations.storage.tables import MAX_ID, suggestions

COUNT = suggestions.c["count"]


async def add_suggestion(connection: Connection, values: dict[str, Any]) -> int:
    """Store a suggestion in the open transaction, or count it on a pending one of the same
    kind and article with (nearly) the same question (``bot.learning.same_question``);
    returns its id."""
    values = {"kind": "answer", "article_id": None, "status": "pending"} | values
    if values["status"] == "pending":
        article = suggestions.c.article_id
        query = select(suggestions.c.id, suggestions.c.question).where(
            suggestions.c.status == "pending",
            suggestions.c.kind == values["kind"],
            article.is_(None) if values["article_id"] is None else article == values["article_id"],
        )
        for row in (await connection.execute(query.order_by(suggestions.c.id))).all():
            if same_question(row.question, values["question"]):
                await connection.execute(
                    update(suggestions).where(suggestions.c.id == row.id).values({COUNT: COUNT + 1})
                )
                return int(row.id)
    result = await connection.execute(
        insert(suggestions).values(values).returning(suggestions.c.id)
    )
    return int(result.scalar_one())


class SqlSuggestions(Database):
    """Suggestions on a ``Database``."""

    # -- suggestions ---------------------------------------------------------------------------
    async def suggestions(self, status: str = "pending") -> list[KnowledgeSuggestion]:
        query = select(suggestions).where(suggestions.c.status == status).order_by(suggestions.c.id)
        return [KnowledgeSuggestion(**r) for r in await self.fetch_all(query)]

    async def suggestion(self, suggestion_id: int) -> KnowledgeSuggestion | None:
        """One suggestion, whatever its status; None if there is none (or the id could be
        none: out of the database's range)."""
        if not 0 < suggestion_id <= MAX_ID:
            return None
        query = select(suggestions).where(suggestions.c.id == suggestion_id)
        found = await self.fetch_all(query)
        return KnowledgeSuggestion(**found[0]) if found else None

    async def set_proposal(self, suggestion_id: int, proposal: dict[str, str]) -> bool:
        """Attach a proposed article to a pending suggestion (once)."""
        async with self.transaction() as connection:
            result = await connection.execute(
                update(suggestions)
                .where(
                    suggestions.c.id == suggestion_id,
                    suggestions.c.status == "pending",
                    suggestions.c.proposal.is_(None),
                )
                .values(proposal=proposal)
            )
        return result.rowcount == 1

    async def set_suggestion_status(self, suggestion_id: int, old: str, new: str) -> bool:
        async with self.transaction() as connection:
            result = await connection.execute(
                update(suggestions)
                .where(suggestions.c.id == suggestion_id, suggestions.c.status == old)
                .values(status=new)
            )
        return result.rowcount == 1

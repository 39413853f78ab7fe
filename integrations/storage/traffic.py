"""The traffic window in SQL: the customer questions the bot decided on confidence alone
(``bot.learning.NotedQuestion``), written with the turn that decided each, read by every
replica (``knowledge.traffic``)."""

from __future__ import annotations

from sqlalchemy import delete, select

from integrations.storage.database import Database
from integrations.storage.tables import noted_questions


class SqlTraffic(Database):
    """The noted questions on a ``Database``."""

    async def noted_confidences(
        self, limit: int, calibrated_threshold: float, tolerance: float
    ) -> list[float]:
        """The confidences of the newest ``limit`` questions noted under a calibrated threshold
        within ``tolerance`` of ``calibrated_threshold``, oldest first."""
        low, high = calibrated_threshold - tolerance, calibrated_threshold + tolerance
        query = (
            select(noted_questions.c.confidence)
            .where(noted_questions.c.calibrated_threshold.between(low, high))
            .order_by(noted_questions.c.id.desc())
            .limit(limit)
        )
        rows = await self.fetch_all(query)
        return [float(row["confidence"]) for row in reversed(rows)]

    async def forget_noted(self, keep: int) -> int:
        """Delete all but the newest ``keep`` noted questions; how many went."""
        oldest_kept = (
            select(noted_questions.c.id)
            .order_by(noted_questions.c.id.desc())
            .offset(max(keep, 1) - 1)
            .limit(1)
            .scalar_subquery()
        )
        query = delete(noted_questions).where(noted_questions.c.id < oldest_kept)
        async with self.transaction() as connection:
            result = await connection.execute(query)
        return int(result.rowcount or 0)

"""What agents taught (suggestions naming an article) and the bot's live outcomes, in the
conversation store's database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from bot.conversation import KnowledgeSuggestion
from bot.learning import Outcome
from integrations.storage import codec
from integrations.storage.sql_store import SqlStore
from integrations.storage.suggestions import add_suggestion
from integrations.storage.tables import answers, outcomes, suggestions


class LearningStore:
    """Args:
    store: The conversation store whose database holds suggestions and outcomes.
    """

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def suggest(
        self,
        *,
        question: str,
        agent: str,
        conversation_id: str,
        kind: str,
        article_id: str | None = None,
        answer: str = "",
        status: str = "pending",
    ) -> int:
        """Store a suggestion, or count it on a pending one like it; returns its id."""
        async with self.store.transaction() as connection:
            return await add_suggestion(
                connection,
                {
                    "question": question,
                    "answer": answer,
                    "agent": agent,
                    "conversation_id": conversation_id,
                    "status": status,
                    "kind": kind,
                    "article_id": article_id,
                    "created_at": datetime.now(UTC),
                },
            )

    async def suggestion(self, suggestion_id: int) -> KnowledgeSuggestion | None:
        query = select(suggestions).where(suggestions.c.id == suggestion_id)
        async with self.store.reading() as connection:
            row = (await connection.execute(query)).mappings().first()
        return KnowledgeSuggestion(**row) if row else None

    async def record(self, outcome: Outcome) -> None:
        async with self.store.transaction() as connection:
            await connection.execute(insert(outcomes).values(codec.outcome_row(outcome)))

    async def answer_confidences(self, since: datetime | None, limit: int = 200_000) -> list[float]:
        """The confidences of the bot's answers since ``since`` (the newest ``limit``; none
        when ``since`` is None)."""
        if since is None:
            return []
        query = (
            select(answers.c.confidence)
            .where(answers.c.at >= since)
            .order_by(answers.c.id.desc())
            .limit(limit)
        )
        async with self.store.reading() as connection:
            return [float(c) for c in (await connection.execute(query)).scalars().all()]

    async def oldest_answer(self) -> datetime | None:
        """When the oldest recorded bot answer was given (None if there is none)."""
        query = select(answers.c.at).order_by(answers.c.id.asc()).limit(1)
        async with self.store.reading() as connection:
            return (await connection.execute(query)).scalar()

    async def outcomes(self, limit: int = 5000) -> list[Outcome]:
        """The newest labelled outcomes."""
        query = select(outcomes).order_by(outcomes.c.id.desc()).limit(limit)
        async with self.store.reading() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            Outcome(
                question=r["question"],
                article_id=r["article_id"],
                confidence=r["confidence"],
                correct=bool(r["correct"]),
                source=r["source"],
                conversation_id=r["conversation_id"],
                at=r["at"],
            )
            for r in rows
        ]

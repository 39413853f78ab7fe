"""What agents taught (suggestions naming an article), the bot's live outcomes and its answers,
in the conversation store's database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from bot.conversation import KnowledgeSuggestion
from bot.learning import Answered, Outcome, Verdict
from integrations.storage import codec
from integrations.storage.sql_store import SqlStore
from integrations.storage.suggestions import add_suggestion
from integrations.storage.tables import outcomes


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
        return await self.store.suggestion(suggestion_id)

    async def record(self, outcome: Outcome) -> None:
        async with self.store.transaction() as connection:
            await connection.execute(insert(outcomes).values(codec.outcome_row(outcome)))

    async def answers(self, limit: int, since: datetime | None = None) -> list[Answered]:
        """The bot's newest ``limit`` answers (since ``since``), newest first, with what became
        known of each."""
        return await self.store.answers(limit, since)

    async def judge(self, verdict: Verdict) -> bool:
        """Record what became known of an answer; False if it changed nothing."""
        return await self.store.judge(verdict)

    async def review_sample(self, limit: int, since: datetime) -> list[Answered]:
        """Unreviewed answers since ``since``, drawn at random, for an agent to review."""
        return await self.store.review_sample(limit, since)

    async def answer(self, answer_id: int) -> Answered | None:
        return await self.store.answer(answer_id)

    async def review(self, answer_id: int, *, right: bool, reviewer: str) -> bool:
        """An agent's review of an answer; False if there is no such answer or it was
        reviewed already."""
        return await self.store.review(answer_id, right=right, reviewer=reviewer)

    async def forget_answers(self, before: datetime) -> int:
        """Delete the answers given before ``before``; how many there were."""
        return await self.store.forget_answers(before)

    async def noted_confidences(
        self, limit: int, calibrated_threshold: float, tolerance: float
    ) -> list[float]:
        """The traffic window every replica shares: the confidences of the newest ``limit``
        questions noted under a calibrated threshold near this one, oldest first."""
        return await self.store.noted_confidences(limit, calibrated_threshold, tolerance)

    async def forget_noted(self, keep: int) -> int:
        """Delete all but the newest ``keep`` noted questions."""
        return await self.store.forget_noted(keep)

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

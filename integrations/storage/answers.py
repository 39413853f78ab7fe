"""The bot's answers, each at the confidence it was given with, and what became known of it
(``bot.learning.Answered``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from bot.learning import CUSTOMER_REJECTED, REVIEW_RIGHT, REVIEW_WRONG, Answered, Verdict
from integrations.storage.database import Connection, Database
from integrations.storage.tables import answers


def answered_of(row: Mapping[str, Any]) -> Answered:
    return Answered(
        conversation_id=row["conversation_id"],
        article_id=row["article_id"],
        confidence=float(row["confidence"]),
        at=row["at"],
        verdict=row["verdict"],
        id=int(row["id"]),
        question=row["question"],
        review=row["review"],
    )


async def judge_answer(connection: Connection, verdict: Verdict) -> bool:
    """Record ``verdict`` on its answer; False if it changed nothing. An agent's verdict always
    holds (their latest tag wins); a customer's rejection only lands on an answer nobody
    judged yet."""
    query = update(answers).where(answers.c.id == verdict.answer_id)
    if verdict.verdict == CUSTOMER_REJECTED:
        query = query.where(answers.c.verdict.is_(None))
    result = await connection.execute(query.values(verdict=verdict.verdict))
    return bool(result.rowcount)


class SqlAnswers(Database):
    """The bot's answers on a ``Database``."""

    async def latest_answer(self, conversation_id: str) -> Answered | None:
        """The bot's latest recorded answer in a conversation."""
        query = (
            select(answers)
            .where(answers.c.conversation_id == conversation_id)
            .order_by(answers.c.id.desc())
            .limit(1)
        )
        row = await self.fetch_one(query)
        return answered_of(row) if row else None

    async def answers(self, limit: int, since: datetime | None = None) -> list[Answered]:
        """The newest ``limit`` answers (given since ``since``, if set), newest first."""
        query = select(answers).order_by(answers.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(answers.c.at >= since)
        return [answered_of(r) for r in await self.fetch_all(query)]

    async def judge(self, verdict: Verdict) -> bool:
        """Record what became known of an answer (``judge_answer``)."""
        async with self.transaction() as connection:
            return await judge_answer(connection, verdict)

    async def forget_answers(self, before: datetime) -> int:
        """Delete the answers given before ``before``; how many there were."""
        async with self.transaction() as connection:
            result = await connection.execute(delete(answers).where(answers.c.at < before))
        return int(result.rowcount or 0)

    async def review_sample(self, limit: int, since: datetime) -> list[Answered]:
        """Up to ``limit`` answers given since ``since`` that nobody reviewed yet, drawn at
        random (so that their reviews are a fair sample of all answers)."""
        query = (
            select(answers)
            .where(answers.c.at >= since, answers.c.review.is_(None))
            .where(answers.c.question.is_not(None))
            .order_by(func.random())
            .limit(limit)
        )
        return [answered_of(r) for r in await self.fetch_all(query)]

    async def answer(self, answer_id: int) -> Answered | None:
        row = await self.fetch_one(select(answers).where(answers.c.id == answer_id))
        return answered_of(row) if row else None

    async def review(self, answer_id: int, *, right: bool, reviewer: str) -> bool:
        """Record an agent's review of an answer; False if there is no such answer or it was
        reviewed already (the first review holds: two agents grading one answer at once, or a
        double click, count once)."""
        review = REVIEW_RIGHT if right else REVIEW_WRONG
        query = update(answers).where(answers.c.id == answer_id, answers.c.review.is_(None))
        async with self.transaction() as connection:
            result = await connection.execute(query.values(review=review, reviewer=reviewer[:255]))
        return bool(result.rowcount)

"""The bot's answers, each at the confidence it was given with, and what became known of it
(``bot.learning.Answered``)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from bot.learning import CUSTOMER_REJECTED, REVIEW_RIGHT, REVIEW_WRONG, Answered, Verdict
from integrations.storage.database import Connection, Database
from integrations.storage.tables import answers

SAMPLE_WHOLE_BELOW = 5000
"""A window of this many ids or fewer is drawn from whole (one random sort of a few thousand
rows); a larger one by random ids."""
CLOCK_SLACK = timedelta(hours=1)
"""How far before the window the id range starts: ids are given at insert and ``at`` by each
replica's clock, so an answer of the window may have an id a little below its earliest one's
(older rows are left out by the window's own condition)."""
SAMPLE_SPREAD = 16
"""The by-id draw needs a range of at least this many ids per answer asked for (a few ids a
round, and a few bound parameters)."""
SAMPLE_ROUNDS = 3
"""Rounds of random ids before the rest is drawn from the whole window."""


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
        random (so that their reviews are a fair sample of all answers).

        Ids are drawn uniformly from the window's id range (ids grow with time, give or take
        replicas' clocks: from the first id an hour before the window to the newest) and kept
        when their answer is eligible: each eligible answer is as likely as any other, and a
        draw reads a few rows by key instead of sorting every answer of the window
        (``bench/review_sample_bench.py``). A small window, or one whose ids are mostly
        ineligible (reviewed, or answers without a question), is drawn from whole."""
        eligible = (
            answers.c.at >= since,
            answers.c.review.is_(None),
            answers.c.question.is_not(None),
        )
        first = await self.fetch_one(
            select(answers.c.id)
            .where(answers.c.at >= since - CLOCK_SLACK)
            .order_by(answers.c.at, answers.c.id)
            .limit(1)
        )
        last = await self.fetch_one(select(func.max(answers.c.id).label("id")))
        drawn: dict[int, Answered] = {}
        if first is not None and last is not None and last["id"] is not None:
            low, high = int(first["id"]), int(last["id"])
            # By id only where the draw is a small part of the range (few ids a round).
            if high - low + 1 > max(SAMPLE_WHOLE_BELOW, SAMPLE_SPREAD * limit):
                drawn = await self._drawn_by_id(low, high, limit, eligible)
        if len(drawn) < limit:  # the rest from the whole window, as one random sort
            query = select(answers).where(*eligible).order_by(func.random())
            if drawn:
                query = query.where(answers.c.id.not_in(list(drawn)))
            for row in await self.fetch_all(query.limit(limit - len(drawn))):
                drawn[int(row["id"])] = answered_of(row)
        return list(drawn.values())

    async def _drawn_by_id(
        self, low: int, high: int, limit: int, eligible: tuple[Any, ...]
    ) -> dict[int, Answered]:
        """Eligible answers among ids drawn uniformly from ``low``..``high``, in the order
        drawn, until ``limit`` are found or ``SAMPLE_ROUNDS`` rounds have passed."""
        draw, tried = random.SystemRandom(), set[int]()
        found: dict[int, Answered] = {}
        for _ in range(SAMPLE_ROUNDS):
            wanted = min(4 * (limit - len(found)), high - low + 1 - len(tried))
            ids: list[int] = []
            while len(ids) < wanted:
                candidate = draw.randint(low, high)
                if candidate not in tried:
                    tried.add(candidate)
                    ids.append(candidate)
            rows = await self.fetch_all(select(answers).where(answers.c.id.in_(ids), *eligible))
            by_id = {int(row["id"]): row for row in rows}
            for answer_id in ids:  # in the order drawn, so that the order is random too
                if answer_id in by_id and len(found) < limit:
                    found[answer_id] = answered_of(by_id[answer_id])
            if len(found) >= limit or not ids:
                break
        return found

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

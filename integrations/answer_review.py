"""Answer review whatever the channel (the desk, Slack's ``/kb review``, Teams' ``kb review``):
the bot's answers drawn at random, each with what an agent needs to grade it, and the grading.

Only wrong answers are ever heard of otherwise (a customer rejects one, an agent corrects one);
a random sample of all of them is the one unbiased measure of the answers' precision
(``bot.learning.live_estimate``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.card import tag_choices
from bot.conversation import ArticleRef
from bot.errors import UnknownConversation
from bot.learning import Answered
from integrations.composition import Services
from integrations.learning import (
    ANSWER_WINDOW,
    AlreadyReviewed,
    ReviewError,
    TagError,
    review_answer,
)
from integrations.storage.learning import LearningStore
from knowledge.base import KnowledgeBase

ANSWER_CHARS = 2000
ADVICE = "Drawn at random: grade it whatever it looks like (picking which to grade biases it)."


@dataclass(frozen=True)
class ReviewItem:
    """One answer to grade.

    Attributes:
        answer: The stored answer (its question, article and confidence).
        title: The title of the article it was given with.
        text: That article's text, as the customer got it (cut at ``ANSWER_CHARS``).
        choices: The articles the agent may name as the right one, ``(id, title)``: what the
            knowledge base finds for the question now first, then the catalogue (at most 99;
            the article answered with is left out).
    """

    answer: Answered
    title: str
    text: str
    choices: tuple[tuple[str, str], ...]


async def draw(
    learning: LearningStore, knowledge_base: KnowledgeBase, limit: int
) -> list[ReviewItem]:
    """Up to ``limit`` unreviewed answers of the last two weeks, drawn at random."""
    drawn = await learning.review_sample(limit, datetime.now(UTC) - ANSWER_WINDOW)
    return await _items(knowledge_base, drawn)


async def review_item(
    learning: LearningStore, knowledge_base: KnowledgeBase, answer_id: int
) -> ReviewItem | None:
    """One answer to grade again (its review was refused), None if it is no longer kept."""
    answer = await learning.answer(answer_id)
    return (await _items(knowledge_base, [answer]))[0] if answer is not None else None


async def _items(knowledge_base: KnowledgeBase, answers: Sequence[Answered]) -> list[ReviewItem]:
    if not answers:
        return []
    articles = await asyncio.to_thread(knowledge_base.store.passages_by_article)
    catalogue = await asyncio.to_thread(knowledge_base.catalogue)
    items = []
    for answer in answers:
        choices = await asyncio.to_thread(_choices, knowledge_base, answer, catalogue)
        article = articles.get(answer.article_id)
        items.append(
            ReviewItem(
                answer,
                article.title if article else answer.article_id,
                "\n\n".join(article.passages)[:ANSWER_CHARS] if article else "",
                tuple((i, t) for i, t in choices if i != answer.article_id),
            )
        )
    return items


def _choices(
    knowledge_base: KnowledgeBase, answer: Answered, catalogue: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    found = knowledge_base.search(answer.question or "", limit=5).matches
    return tag_choices([ArticleRef(m.article_id, m.title, None, "") for m in found], catalogue)


async def review(
    services: Services, *, answer_id: int, right: bool, article_id: str | None, agent: str
) -> None:
    """``integrations.learning.review_answer`` on the running service (its errors raised)."""
    await review_answer(
        learning=services.learning,
        knowledge_base=services.knowledge_base,
        settings=services.settings.learning,
        answer_id=answer_id,
        right=right,
        article_id=article_id,
        agent=agent,
        metrics=services.metrics,
    )


@dataclass(frozen=True)
class Graded:
    """How grading an answer went, for a chat channel.

    Attributes:
        settled: The answer needs no more grading (this review landed, or another agent's did,
            or it is no longer kept): show the next one. Else the agent can correct the
            review (the article named) on the same answer.
        message: What to tell the agent.
    """

    settled: bool
    message: str


async def grade(
    services: Services, *, answer_id: int, right: bool, article_id: str | None, agent: str
) -> Graded:
    """Grade one answer, as an agent does in a chat channel (the desk maps the same errors
    to HTTP statuses)."""
    try:
        await review(services, answer_id=answer_id, right=right, article_id=article_id, agent=agent)
    except AlreadyReviewed:
        return Graded(True, "That answer was graded already; the first review holds.")
    except UnknownConversation:
        return Graded(True, "That answer is no longer kept.")
    except (ReviewError, TagError) as failure:
        return Graded(False, str(failure))
    if right:
        return Graded(True, "Graded right.")
    if article_id is None:
        return Graded(True, "Graded wrong.")
    trusted = agent in services.settings.learning.trusted_agents
    taught = "it is taught at once" if trusted else "an admin will review it"
    return Graded(True, f"Graded wrong; the question goes to {article_id!r} ({taught}).")

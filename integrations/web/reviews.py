"""Answer review on the desk (``/api/desk/reviews``): agents grade a random sample of the
bot's answers, right or wrong. Only wrong answers are ever heard of otherwise (a customer
rejects one, an agent corrects one); a random sample of all of them is the one unbiased measure
of the answers' precision, and it raises the threshold when that precision clearly misses its
target (``bot.learning.live_estimate``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.card import tag_choices
from bot.conversation import ArticleRef
from bot.errors import UnknownConversation
from bot.learning import Answered
from integrations.learning import (
    ANSWER_WINDOW,
    AlreadyReviewed,
    ReviewError,
    TagError,
    review_answer,
)
from integrations.web.auth import current_agent
from integrations.web.bodies import path_id, query_id
from integrations.web.errors import ApiError
from integrations.web.http import json_object
from integrations.web.keys import SERVICES
from integrations.web.models import ReviewBody, parse
from knowledge.base import KnowledgeBase
from knowledge.store import ArticlePassages

routes = web.RouteTableDef()
MAX_SAMPLE = 50
ANSWER_CHARS = 2000


def _shown(
    answer: Answered, article: ArticlePassages | None, choices: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "id": answer.id,
        "conversation_id": answer.conversation_id,
        "question": answer.question,
        "article_id": answer.article_id,
        "title": article.title if article else answer.article_id,
        "answer": "\n\n".join(article.passages)[:ANSWER_CHARS] if article else "",
        "confidence": round(answer.confidence, 4),
        "at": answer.at.isoformat() if answer.at else None,
        "choices": [{"id": i, "title": t} for i, t in choices if i != answer.article_id],
    }


def _choices(
    knowledge_base: KnowledgeBase, answer: Answered, catalogue: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """The articles an agent may name as the right one: what the knowledge base finds for the
    question now, best first, then the rest of the catalogue (at most 99, as on a card)."""
    found = knowledge_base.search(answer.question or "", limit=5).matches
    return tag_choices([ArticleRef(m.article_id, m.title, None, "") for m in found], catalogue)


@routes.get("/api/desk/reviews")
async def sample(request: web.Request) -> web.Response:
    """Up to ``limit`` (default 5) unreviewed answers of the last two weeks, drawn at random.
    Review each one drawn, whatever it looks like: picking which to review biases the sample."""
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    limit = min(query_id(request, "limit", 5), MAX_SAMPLE)
    drawn = await services.learning.review_sample(limit, datetime.now(UTC) - ANSWER_WINDOW)
    knowledge_base = services.knowledge_base
    articles = await asyncio.to_thread(knowledge_base.store.passages_by_article)
    catalogue = [(i, a.title) for i, a in sorted(articles.items())]
    shown = []
    for answer in drawn:
        choices = await asyncio.to_thread(_choices, knowledge_base, answer, catalogue)
        shown.append(_shown(answer, articles.get(answer.article_id), choices))
    return web.json_response({"answers": shown})


@routes.post("/api/desk/reviews/{id}")
async def review(request: web.Request) -> web.Response:
    """``{"right": true}``, or ``{"right": false, "article_id": …}`` naming the article that
    should have answered (null or absent: none does, or the agent does not say). Once per
    answer: a second review is a 409 and changes nothing."""
    services = request.app[SERVICES]
    account = await current_agent(request, services.store)
    answer_id = path_id(request, "id")
    body = parse(ReviewBody, await json_object(request))
    try:
        await review_answer(
            learning=services.learning,
            knowledge_base=services.knowledge_base,
            settings=services.settings.learning,
            answer_id=answer_id,
            right=body.right,
            article_id=body.article_id,
            agent=account.username,
            metrics=services.metrics,
        )
    except UnknownConversation as failure:
        raise ApiError(404, "not_found", f"no answer {answer_id}") from failure
    except AlreadyReviewed as failure:
        raise ApiError(409, "already_reviewed", f"answer {answer_id} was reviewed already") from (
            failure
        )
    except ReviewError as failure:
        raise ApiError(422, "invalid_article_id", str(failure)) from failure
    except TagError as failure:
        raise ApiError(422, "unknown_article", str(failure)) from failure
    return web.json_response({"status": "reviewed", "right": body.right})

"""Answer review on the desk (``/api/desk/reviews``): agents grade a random sample of the
bot's answers, right or wrong. Only wrong answers are ever heard of otherwise (a customer
rejects one, an agent corrects one); a random sample of all of them is the one unbiased measure
of the answers' precision, and it raises the threshold when that precision clearly misses its
target (``bot.learning.live_estimate``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.errors import UnknownConversation
from bot.learning import Answered
from integrations.learning import ANSWER_WINDOW, TagError, review_answer
from integrations.web.auth import current_agent
from integrations.web.bodies import path_id, query_id
from integrations.web.errors import ApiError
from integrations.web.http import json_object
from integrations.web.keys import SERVICES
from integrations.web.models import ReviewBody, parse
from knowledge.store import ArticlePassages

routes = web.RouteTableDef()
MAX_SAMPLE = 50
ANSWER_CHARS = 2000


def _shown(answer: Answered, article: ArticlePassages | None) -> dict[str, Any]:
    return {
        "id": answer.id,
        "conversation_id": answer.conversation_id,
        "question": answer.question,
        "article_id": answer.article_id,
        "title": article.title if article else answer.article_id,
        "answer": "\n\n".join(article.passages)[:ANSWER_CHARS] if article else "",
        "confidence": round(answer.confidence, 4),
        "at": answer.at.isoformat() if answer.at else None,
    }


@routes.get("/api/desk/reviews")
async def sample(request: web.Request) -> web.Response:
    """Up to ``limit`` (default 5) unreviewed answers of the last two weeks, drawn at random.
    Review each one drawn, whatever it looks like: picking which to review biases the sample."""
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    limit = min(query_id(request, "limit", 5), MAX_SAMPLE)
    drawn = await services.learning.review_sample(limit, datetime.now(UTC) - ANSWER_WINDOW)
    articles = await asyncio.to_thread(services.knowledge_base.store.passages_by_article)
    return web.json_response({"answers": [_shown(a, articles.get(a.article_id)) for a in drawn]})


@routes.post("/api/desk/reviews/{id}")
async def review(request: web.Request) -> web.Response:
    """``{"right": true}``, or ``{"right": false, "article_id": …}`` naming the article that
    should have answered (null or absent: none does, or the agent does not say)."""
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
    except TagError as failure:
        raise ApiError(422, "unknown_article", str(failure)) from failure
    return web.json_response({"status": "reviewed", "right": body.right})

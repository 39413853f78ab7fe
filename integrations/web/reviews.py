"""Answer review on the desk (``/api/desk/reviews``): agents grade a random sample of the
bot's answers, right or wrong (``integrations.answer_review``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.errors import UnknownConversation
from integrations.answer_review import ReviewItem, draw, review
from integrations.learning import AlreadyReviewed, ReviewError, TagError
from integrations.web.auth import current_agent
from integrations.web.bodies import path_id, query_count
from integrations.web.errors import ApiError
from integrations.web.http import json_object
from integrations.web.keys import SERVICES
from integrations.web.models import ReviewBody, parse

routes = web.RouteTableDef()
MAX_SAMPLE = 50


def _shown(item: ReviewItem) -> dict[str, Any]:
    answer = item.answer
    return {
        "id": answer.id,
        "conversation_id": answer.conversation_id,
        "question": answer.question,
        "article_id": answer.article_id,
        "title": item.title,
        "answer": item.text,
        "confidence": round(answer.confidence, 4),
        "at": answer.at.isoformat() if answer.at else None,
        "choices": [{"id": i, "title": t} for i, t in item.choices],
    }


@routes.get("/api/desk/reviews")
async def sample(request: web.Request) -> web.Response:
    """Up to ``limit`` (default 5) unreviewed answers of the last two weeks, drawn at random.
    Review each one drawn, whatever it looks like: picking which to review biases the sample."""
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    limit = query_count(request, "limit", 5, MAX_SAMPLE)
    drawn = await draw(services.learning, services.knowledge_base, limit)
    return web.json_response({"answers": [_shown(item) for item in drawn]})


@routes.post("/api/desk/reviews/{id}")
async def grade(request: web.Request) -> web.Response:
    """``{"right": true}``, or ``{"right": false, "article_id": …}`` naming the article that
    should have answered (null or absent: none does, or the agent does not say). Once per
    answer: a second review is a 409 and changes nothing."""
    services = request.app[SERVICES]
    account = await current_agent(request, services.store)
    answer_id = path_id(request, "id")
    body = parse(ReviewBody, await json_object(request))
    try:
        await review(
            services,
            answer_id=answer_id,
            right=body.right,
            article_id=body.article_id,
            agent=account.username,
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

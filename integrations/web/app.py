"""The aiohttp application: one port for every HTTP surface of Tandem."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.model import Decision
from bot.policy import Responder
from config import Settings

logger = logging.getLogger(__name__)
RESPONDER: web.AppKey[Responder] = web.AppKey("responder", Responder)
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_CHARS = 4000


def error(status: int, code: str, message: str) -> web.Response:
    """A JSON error body: ``{"error": {"code", "message"}}``."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def customer_view(decision: Decision) -> dict[str, Any]:
    """What a customer may see of a decision: never scores, drafts or internal notes."""
    if decision.action == "answer" and decision.answer:
        answer = decision.answer
        return {
            "type": "answer",
            "text": "\n\n".join(answer.passages[:1]),
            "sources": [{"title": answer.title, "url": answer.url}],
        }
    return {"type": "escalated", "text": "A person from our team will reply shortly."}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give API clients a JSON body for every HTTP error, including aiohttp's own."""
    try:
        return await handler(request)
    except web.HTTPException as failure:
        if not request.path.startswith("/api/") or failure.status < 400:
            raise
        code = {413: "too_large", 404: "not_found", 405: "method_not_allowed"}.get(
            failure.status, "http_error"
        )
        return error(failure.status, code, failure.reason)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ask(request: web.Request) -> web.Response:
    """``POST /api/ask`` with ``{"text"}``: the bot's decision for one question."""
    try:
        body = await request.json()
    except ValueError:
        return error(400, "invalid_json", "the body must be a JSON object")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return error(422, "invalid_text", "'text' must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        return error(413, "text_too_long", f"'text' is limited to {MAX_TEXT_CHARS} characters")
    decision = await asyncio.to_thread(request.app[RESPONDER].respond, text)
    return web.json_response(customer_view(decision))


def create_app(settings: Settings) -> web.Application:
    """Build the application; the knowledge base opens (and is seeded) at start-up."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])

    async def start(app: web.Application) -> None:
        from integrations.composition import (
            build_responder,
            ingest_sample_if_empty,
            open_knowledge_base,
        )

        knowledge_base = await asyncio.to_thread(open_knowledge_base, settings)
        await asyncio.to_thread(ingest_sample_if_empty, settings, knowledge_base)
        app[RESPONDER] = build_responder(settings, knowledge_base)
        logger.info("tandem ready", extra={"articles": knowledge_base.store.count()})

    app.on_startup.append(start)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/ask", ask)
    return app

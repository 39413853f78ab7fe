"""The customer API: conversations, messages, history and a WebSocket of events."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.conversation import Message
from bot.events import CustomerEvent, customer_topic
from integrations.web.bodies import query_id
from integrations.web.errors import ApiError
from integrations.web.http import bearer, json_object, stream_events
from integrations.web.keys import LIMITER, SERVICES, TASKS
from integrations.web.models import OpenBody, message_text, parse

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()


async def _authorised(request: web.Request, token: str | None) -> str:
    """The conversation id, once the customer's token is checked (404 before 401: an unknown
    conversation is not a secret worth hiding, and the token is random)."""
    conversation_id = request.match_info["id"]
    engine = request.app[SERVICES].engine
    if not await engine.exists(conversation_id):
        raise ApiError(404, "not_found", f"unknown conversation '{conversation_id}'")
    if not token or not await engine.verify(conversation_id, token):
        raise ApiError(401, "unauthorized", "a valid conversation token is required")
    return conversation_id


@routes.post("/api/conversations")
async def start(request: web.Request) -> web.Response:
    body = await json_object(request) if request.body_exists else {}
    customer = parse(OpenBody, body).customer
    services = request.app[SERVICES]
    await request.app[LIMITER].check(
        f"opened:{request.remote}",
        services.settings.server.conversations_per_address_per_minute,
        "new conversations",
    )
    conversation, token = await services.engine.start("web", customer)
    return web.json_response({"id": conversation.id, "token": token}, status=201)


@routes.post("/api/conversations/{id}/messages")
async def post_message(request: web.Request) -> web.Response:
    conversation_id = await _authorised(request, bearer(request))
    services = request.app[SERVICES]
    text = message_text(await json_object(request), services.settings.server.max_message_chars)
    limits, server = request.app[LIMITER], services.settings.server
    await limits.check(f"conversation:{conversation_id}")
    await limits.check(f"address:{request.remote}", server.messages_per_address_per_minute)
    message = await services.engine.receive(conversation_id, text)  # stored before the 202
    request.app[TASKS].spawn(services.engine.handle(message))
    return web.json_response({"id": message.id, "status": "accepted"}, status=202)


@routes.get("/api/conversations/{id}/messages")
async def history(request: web.Request) -> web.Response:
    conversation_id = await _authorised(request, bearer(request))
    after = _after(request)
    messages = await request.app[SERVICES].store.messages(conversation_id, after=after)
    return web.json_response({"messages": [m.public_view() for m in messages]})


@routes.get("/api/conversations/{id}/ws")
async def events(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token") or bearer(request)
    conversation_id = await _authorised(request, token)
    services = request.app[SERVICES]
    after = _after(request)

    async def backlog() -> list[dict[str, object]]:
        messages: list[Message] = await services.store.messages(conversation_id, after=after)
        return [m.public_view() for m in messages]

    async with services.bus.subscribe(customer_topic(conversation_id)) as stream:
        return await stream_events(request, stream, backlog, CustomerEvent)


def _after(request: web.Request) -> int:
    return query_id(request, "after")

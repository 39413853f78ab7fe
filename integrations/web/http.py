"""HTTP helpers shared by the web routes: JSON errors, body parsing, rate limits, sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler

from bot.errors import IllegalTransition, InvalidAction, UnknownConversation
from integrations.web.errors import ApiError, error
from integrations.web.keys import SOCKETS

MAX_BODY_BYTES = 64 * 1024


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API failure becomes a JSON error with the right status; the server keeps serving."""
    try:
        return await handler(request)
    except ApiError as failure:
        return error(failure.status, failure.code, str(failure), **failure.extra)
    except UnknownConversation as failure:
        return error(404, "not_found", str(failure))
    except (InvalidAction, IllegalTransition) as failure:
        return error(
            409 if isinstance(failure, IllegalTransition) else 422, "invalid_action", str(failure)
        )
    except web.HTTPException as failure:
        if not request.path.startswith("/api/") or failure.status < 400:
            raise
        code = {413: "too_large", 404: "not_found", 405: "method_not_allowed"}.get(
            failure.status, "http_error"
        )
        return error(failure.status, code, failure.reason)


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send a JSON body (application/json)")
    try:
        body = await request.json()
    except ValueError as failure:
        raise ApiError(400, "invalid_json", "the body must be a JSON object") from failure
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"invalid_{name}", f"'{name}' must be a non-empty string")
    if len(value) > limit:
        raise ApiError(413, f"{name}_too_long", f"'{name}' is limited to {limit} characters")
    return value.strip()


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def stream_events(
    request: web.Request,
    events: AsyncIterator[dict[str, Any]],
    backlog: Callable[[], Awaitable[list[dict[str, Any]]]],
) -> web.WebSocketResponse:
    """Send the backlog, then live events, until the client goes away. Events carrying an
    ``id`` at or below the last one sent are skipped, so a reconnect sees nothing twice."""
    socket = web.WebSocketResponse(heartbeat=25)
    await socket.prepare(request)
    sockets: set[web.WebSocketResponse] = request.app[SOCKETS]
    sockets.add(socket)
    last = 0
    for item in await backlog():
        await socket.send_json(item)
        last = max(last, int(item.get("id", 0)))

    async def pump() -> None:
        nonlocal last
        async for event in events:
            ident = event.get("id")
            if isinstance(ident, int):
                if ident <= last:
                    continue
                last = ident
            await socket.send_json(event)

    sender = asyncio.create_task(pump())
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT and message.data == "ping":
                await socket.send_str("pong")
    finally:
        sockets.discard(socket)
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    return socket


async def close_sockets(app: web.Application) -> None:
    """On shutdown, tell every client to reconnect (to this replica later, or another)."""
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for socket in list(sockets):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

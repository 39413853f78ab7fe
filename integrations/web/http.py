"""HTTP helpers shared by the web routes: JSON errors, body parsing, rate limits, sockets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler, Middleware

from bot.errors import IllegalTransition, InvalidAction, UnknownConversation
from bot.events import AgentEvent, CustomerEvent
from integrations.web.bodies import parse_json, read_json
from integrations.web.errors import ApiError, error
from integrations.web.keys import BODY_TIMEOUT, RECLAIMER, SOCKETS

MAX_BODY_BYTES = 64 * 1024
BODY_TIMEOUT_S = 20.0
CHANNEL_PATHS = ("/slack/events", "/api/messages")
CUSTOMER_API = "/api/conversations"
logger = logging.getLogger(__name__)


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
        if failure.status < 400 or not (
            request.path.startswith("/api/") or request.path in CHANNEL_PATHS
        ):
            raise
        code = {
            401: "unauthorized",
            413: "too_large",
            404: "not_found",
            405: "method_not_allowed",
        }.get(failure.status, "http_error")
        return error(failure.status, code, failure.reason)
    except OSError as failure:
        if request.path.startswith("/static/"):  # e.g. a file name too long for the disk
            return error(404, "not_found", "no such file")
        return _internal(request, failure)
    except Exception as failure:  # the server keeps serving, and the body is still JSON
        return _internal(request, failure)


def _internal(request: web.Request, failure: Exception) -> web.Response:
    # One cheap line: no traceback with locals is rendered on the event loop.
    logger.error(
        "request failed",
        extra={"path": request.path[:200], "error": f"{type(failure).__name__}: {failure}"[:500]},
    )
    return error(500, "internal_error", "the server could not handle this request")


@web.middleware
async def desk_json_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing desk request is JSON: a cross-site form cannot send that without a
    CORS preflight, which this server never grants, so no form on another page can act."""
    if request.method == "POST" and request.path.startswith("/api/desk/"):
        if request.content_type != "application/json":
            raise ApiError(415, "unsupported_media_type", "desk requests must be JSON")
    return await handler(request)


def same_origin(request: web.Request, public_url: str) -> None:
    """A browser's WebSocket from another origin is refused (the desk's cookie would ride
    along); clients that send no ``Origin`` (scripts) are not browsers and pass."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = {f"{request.scheme}://{request.host}", public_url.rstrip("/")}
    if origin.rstrip("/") not in allowed:
        raise ApiError(403, "forbidden_origin", "this page may not open the desk's socket")


def widget_cors(origins: Iterable[str], public_url: str) -> Middleware:
    """CORS for the customer API and socket (``/api/conversations…``) only, so the widget can be
    embedded on the pages of ``origins`` (``*``: any page). Same-origin requests and clients
    that send no ``Origin`` (scripts) always pass; a browser on any other page gets a 403 for
    the preflight, the request and the socket alike. No credentials: the widget sends a bearer
    token. The desk API never gets CORS headers."""
    allowed = {origin.rstrip("/").lower() for origin in origins}
    own = public_url.rstrip("/").lower()

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        origin = request.headers.get("Origin")
        if origin is None or not (path == CUSTOMER_API or path.startswith(CUSTOMER_API + "/")):
            return await handler(request)
        origin = origin.rstrip("/").lower()
        if origin in (own, f"{request.scheme}://{request.host}".lower()):
            return await handler(request)
        if origin not in allowed and "*" not in allowed:
            return error(403, "forbidden_origin", "this page may not use the chat")
        headers = {"Access-Control-Allow-Origin": request.headers["Origin"], "Vary": "Origin"}
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "GET, POST",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type",
                    "Access-Control-Max-Age": "600",
                }
            )
            return web.Response(status=204, headers=headers)
        response = await handler(request)
        if not response.prepared:
            response.headers.update(headers)
        return response

    return cors


@web.middleware
async def no_sniffing(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browsers take every response as the type it says it is (errors aiohttp raises, such as
    a 404 outside the API, included)."""
    try:
        response = await handler(request)
    except web.HTTPException as failure:
        failure.headers.setdefault("X-Content-Type-Options", "nosniff")
        raise
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@web.middleware
async def body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A body is read whole (it is at most ``MAX_BODY_BYTES``) before any handler runs, within
    ``BODY_TIMEOUT`` seconds: a client that declares a body and never sends it gets a 408, and
    its connection is closed, instead of holding a handler forever. Handlers then read the
    cached body."""
    if request.body_exists:
        try:
            async with asyncio.timeout(request.app.get(BODY_TIMEOUT, BODY_TIMEOUT_S)):
                await request.read()
        except TimeoutError:
            raise ApiError(
                408, "request_timeout", "the request body did not arrive in time"
            ) from None
    return await handler(request)


@web.middleware
async def channel_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Slack and Bot Framework endpoints: a body that cannot be a platform payload (JSON that
    is not an object, or not JSON at all, also in a form's ``payload`` field, where Slack puts
    interactivity) is a 400 before any signature or token work."""
    if request.method == "POST" and request.path in CHANNEL_PATHS:
        if request.content_type == "application/json":
            payload: Any = await read_json(request)
        elif request.content_type == "application/x-www-form-urlencoded":
            try:
                form = await request.post()
            except (UnicodeDecodeError, LookupError, ValueError) as failure:
                raise ApiError(400, "invalid_payload", "the form is not UTF-8") from failure
            field = form.get("payload")
            payload = {} if field is None else parse_json(str(field))
        else:
            raise ApiError(415, "unsupported_media_type", "send JSON or a form")
        if not isinstance(payload, dict):
            raise ApiError(400, "invalid_payload", "the payload must be a JSON object")
    return await handler(request)


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 (``bodies.read_json``)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return body


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def stream_events(
    request: web.Request,
    events: AsyncIterator[dict[str, Any]],
    backlog: Callable[[], Awaitable[list[dict[str, Any]]]],
    event_type: type[AgentEvent] | type[CustomerEvent],
) -> web.WebSocketResponse:
    """Send the backlog, then live events, until the client goes away. Each live event is read
    as ``event_type`` and sent as its wire form (one that does not read is logged and
    skipped). Events carrying an ``id`` at or below the last one sent are skipped, so a
    reconnect sees nothing twice."""
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
        async for raw in events:
            try:
                event = event_type.from_dict(raw).to_dict()
            except (KeyError, TypeError, ValueError):
                logger.warning("an event on the bus did not read; skipped", extra={"event": raw})
                continue
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
        request.app[RECLAIMER].closed()  # before the await: aiohttp may cancel this handler
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    return socket


async def close_sockets(app: web.Application) -> None:
    """On shutdown, tell every client to reconnect (to this replica later, or another)."""
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for socket in list(sockets):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

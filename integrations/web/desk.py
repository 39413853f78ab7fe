"""The agent desk's JSON API (``/api/desk/…``) and its WebSocket. Scripts use the same API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from bot.card import HISTORY_PAGE
from bot.conversation import ACTIVE_STATUSES, ActionKind, AgentAction, Escalation, EscalationStatus
from bot.drafting import reason_labels
from bot.engine import hash_secret
from bot.events import AGENTS, AgentEvent
from bot.queue import ordered, urgency
from integrations.composition import public_url
from integrations.learning import (
    TagError,
    accept_suggestion,
    not_pending,
    reject_suggestion,
    settled_as,
    tag_article,
)
from integrations.web.auth import COOKIE, current_agent, session_token, sign_in
from integrations.web.bodies import path_id, query_count, query_id
from integrations.web.errors import ApiError
from integrations.web.http import json_object, same_origin, stream_events
from integrations.web.keys import LOGIN_GUARD, SERVICES
from integrations.web.login_guard import LoginGuard
from integrations.web.models import ActionBody, LoginBody, TagBody, parse, within

routes = web.RouteTableDef()
STATUS_CODES = {"done": 200, "duplicate": 200, "refused": 409}
MAX_HISTORY_PAGE = 500


def _summary(escalation: Escalation, now: datetime, position: int | None) -> dict[str, Any]:
    urgent = urgency(escalation, now)
    return {
        "id": escalation.id,
        "conversation_id": escalation.conversation_id,
        "status": escalation.status.value,
        "holder": escalation.holder,
        "reasons": list(escalation.reasons),
        "reason_labels": reason_labels(escalation.reasons),
        "goal": escalation.summary.goal,
        "intent": escalation.summary.intent,
        "sentiment": escalation.summary.sentiment,
        "created_at": escalation.created_at.isoformat(),
        "priority": urgent.priority,
        "priority_label": urgent.label,
        "wait_minutes": urgent.wait_minutes,
        "queue_position": position,
    }


@routes.post("/api/desk/login")
async def login(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    login = parse(LoginBody, await json_object(request))
    username, password = login.username, login.password
    guard: LoginGuard = request.app[LOGIN_GUARD]
    address = request.remote or "unknown"
    guard.check(username, address)
    try:
        account, token = await sign_in(
            services.store, username, password, services.settings.server.desk_session_hours
        )
    except ApiError:
        guard.failed(username, address)
        raise
    guard.succeeded(username)
    response = web.json_response(
        {"token": token, "agent": {"username": account.username, "name": account.display_name}}
    )
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=public_url(services.settings.server).startswith("https://"),
        path="/",
        max_age=int(services.settings.server.desk_session_hours * 3600),
    )
    return response


@routes.post("/api/desk/logout")
async def logout(request: web.Request) -> web.Response:
    token = session_token(request)
    if token:
        await request.app[SERVICES].store.delete_session(hash_secret(token))
    response = web.json_response({"status": "signed out"})
    response.del_cookie(COOKIE, path="/")
    return response


@routes.get("/api/desk/me")
async def me(request: web.Request) -> web.Response:
    account = await current_agent(request, request.app[SERVICES].store)
    return web.json_response({"username": account.username, "name": account.display_name})


@routes.get("/api/desk/escalations")
async def queue(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    scope = request.query.get("status", "active")
    if scope not in ("active", "all"):
        raise ApiError(400, "invalid_status", "'status' is 'active' or 'all'")
    statuses = ACTIVE_STATUSES if scope == "active" else frozenset(EscalationStatus)
    escalations = await services.store.escalations(sorted(statuses))
    now = services.engine.clock()
    waiting = ordered([e for e in escalations if e.status is EscalationStatus.OPEN], now)
    positions = {e.id: n for n, e in enumerate(waiting, start=1)}
    rest = [e for e in escalations if e.status is not EscalationStatus.OPEN]
    items = [_summary(e, now, positions.get(e.id)) for e in [*waiting, *rest]]
    return web.json_response({"escalations": items})


@routes.get("/api/desk/escalations/{id}")
async def card(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    return web.json_response((await services.engine.card(request.match_info["id"])).to_json())


@routes.get("/api/desk/escalations/{id}/history")
async def card_history(request: web.Request) -> web.Response:
    """``?before=N&limit=L``: the card's history entries ``n`` in ``[N - L, N)`` (the card
    itself carries only the newest ``HISTORY_PAGE``), oldest first, and the total count."""
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    card = await services.engine.card(request.match_info["id"])
    count = len(card.history)
    before = min(query_id(request, "before", count), count)
    limit = query_count(request, "limit", HISTORY_PAGE, MAX_HISTORY_PAGE)
    return web.json_response({"history": card.history_json(before, limit), "history_count": count})


@routes.post("/api/desk/escalations/{id}/actions")
async def act(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    account = await current_agent(request, services.store)
    body = parse(ActionBody, await json_object(request))
    kind, key = body.action, body.key
    limit = services.settings.server.max_message_chars
    needs_text = kind in (ActionKind.SEND, ActionKind.NOTE)
    if needs_text and not body.text:
        raise ApiError(422, "invalid_text", "'text' must be a non-empty string")
    text = within(body.text, "text", limit) if body.text else None
    escalation_id = request.match_info["id"]
    action = AgentAction(
        kind,
        account.display_name,
        "desk",
        text,
        f"desk:{escalation_id}:{key}" if key else None,
        agent_id=f"desk:{account.username}",
        seen_version=body.version,
    )
    result = await services.engine.act(escalation_id, action)
    card = await services.engine.card(escalation_id)
    return web.json_response(
        {
            "outcome": result.outcome,
            "message": result.message,
            "holder": result.holder,
            "card": card.to_json(),
        },
        status=STATUS_CODES[result.outcome],
    )


@routes.post("/api/desk/escalations/{id}/tag")
async def tag(request: web.Request) -> web.Response:
    """The agent says which article answered the escalation (``article_id``), or ``null``: not
    in the knowledge base. The question becomes a question variant once accepted."""
    services = request.app[SERVICES]
    account = await current_agent(request, services.store)
    article = parse(TagBody, await json_object(request)).article_id
    escalation_id = request.match_info["id"]
    try:
        tagged = await tag_article(
            engine=services.engine,
            learning=services.learning,
            knowledge_base=services.knowledge_base,
            settings=services.settings.learning,
            escalation_id=escalation_id,
            article_id=article,
            agent=account.username,
            agent_name=account.display_name,
            channel="desk",
            metrics=services.metrics,
        )
    except TagError as failure:
        raise ApiError(422, "unknown_article", str(failure)) from failure
    card = await services.engine.card(escalation_id)
    return web.json_response(
        {
            "suggestion_id": tagged.suggestion_id,
            "question": tagged.question,
            "applied": tagged.accepted,
            "card": card.to_json(),
        }
    )


@routes.get("/api/desk/ws")
async def desk_events(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    same_origin(request, public_url(services.settings.server))
    await current_agent(request, services.store)

    async def backlog() -> list[dict[str, Any]]:
        return [{"type": "hello"}]

    async with services.bus.subscribe(AGENTS) as stream:
        return await stream_events(request, stream, backlog, AgentEvent)


@routes.get("/api/desk/suggestions")
async def suggestions(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    pending = await services.store.suggestions("pending")
    return web.json_response(
        {
            "suggestions": [
                {
                    "id": s.id,
                    "question": s.question,
                    "answer": s.answer,
                    "agent": s.agent,
                    "kind": s.kind,
                    "article_id": s.article_id,
                    "count": s.count,
                    "proposal": s.proposal,
                    "created_at": s.created_at.isoformat(),
                }
                for s in pending
            ]
        }
    )


@routes.post("/api/desk/suggestions/{id}/{verdict:accept|reject}")
async def review(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await current_agent(request, services.store)
    suggestion_id = path_id(request, "id")
    if request.match_info["verdict"] == "accept":
        done = await accept_suggestion(services.store, services.knowledge_base, suggestion_id)
        found = done is not None
    else:
        found = await reject_suggestion(services.store, suggestion_id)
    if not found:
        settled = await settled_as(services.store, suggestion_id)
        if settled:  # a second click, or another admin first: nothing is lost
            raise ApiError(409, "already_" + settled, not_pending(suggestion_id, settled))
        raise ApiError(404, "not_found", not_pending(suggestion_id, settled))
    return web.json_response({"status": request.match_info["verdict"] + "ed"})

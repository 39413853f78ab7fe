"""Every guard of the customer and desk APIs: a clear JSON error with the right status, nothing
lost, and the server keeps serving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.events import CustomerEvent, customer_topic
from config import ServerSettings
from integrations.composition import Services
from integrations.web.app import create_app
from tests.conftest import add_agent


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    settings = services.settings.model_copy(
        update={"server": ServerSettings(rate_limit_per_minute=3, max_message_chars=200)}
    )
    services.settings = settings
    await add_agent(services.store, "alice")
    async with TestServer(create_app(settings, services)) as test_server:
        yield test_server


@pytest_asyncio.fixture()
async def conversation(server: TestServer) -> AsyncIterator[tuple[str, str]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(server.make_url("/api/conversations"), json={}) as response:
            body = await response.json()
    yield body["id"], body["token"]


async def call(
    server: TestServer, method: str, path: str, *, token: str | None = None, **kwargs: Any
) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
    headers = {
        **kwargs.pop("headers", {}),
        **({"Authorization": f"Bearer {token}"} if token else {}),
    }
    async with aiohttp.ClientSession() as session:
        async with session.request(method, server.make_url(path), headers=headers, **kwargs) as r:
            body = await r.json()
        async with session.get(server.make_url("/healthz")) as health:
            assert health.status == 200, "the server keeps serving"
    return r.status, body, r


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": b"{oops", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
        (
            {"data": b"text=hi", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ({"json": {"text": "   "}}, 422, "invalid_text"),
        ({"json": {"text": 42}}, 422, "invalid_text"),
        ({"json": {"text": "x" * 201}}, 413, "text_too_long"),
        (
            {"data": b"x" * 100_000, "headers": {"Content-Type": "application/json"}},
            413,
            "too_large",
        ),
    ],
)
async def test_bad_messages_are_refused(
    server: TestServer,
    conversation: tuple[str, str],
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    conversation_id, token = conversation
    got, body, _ = await call(
        server, "POST", f"/api/conversations/{conversation_id}/messages", token=token, **kwargs
    )
    assert (got, body["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"customer": 42}, 422, "invalid_customer"),
        ({"customer": "c" * 201}, 413, "customer_too_long"),
        ({"customer": "crm-1234"}, 201, None),
        ({}, 201, None),
    ],
)
async def test_opening_a_conversation_checks_its_body(
    server: TestServer, body: dict[str, Any], status: int, code: str | None
) -> None:
    got, answer, _ = await call(server, "POST", "/api/conversations", json=body)
    assert got == status
    if code is not None:
        assert answer["error"]["code"] == code and "customer" in answer["error"]["message"]


async def test_unknown_conversation_and_wrong_token(
    server: TestServer, conversation: tuple[str, str]
) -> None:
    conversation_id, token = conversation
    path = f"/api/conversations/{conversation_id}/messages"
    status, body, _ = await call(
        server, "POST", "/api/conversations/nope/messages", token=token, json={"text": "hi"}
    )
    assert (status, body["error"]["code"]) == (404, "not_found")
    for wrong in (None, "not-the-token"):
        status, body, _ = await call(server, "POST", path, token=wrong, json={"text": "hi"})
        assert (status, body["error"]["code"]) == (401, "unauthorized")
        status, _, _ = await call(server, "GET", path, token=wrong)
        assert status == 401
    status, body, _ = await call(server, "GET", path + "?after=abc", token=token)
    assert (status, body["error"]["code"]) == (400, "invalid_after")


async def test_websocket_needs_the_token(server: TestServer, conversation: tuple[str, str]) -> None:
    conversation_id, _ = conversation
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                server.make_url(f"/api/conversations/{conversation_id}/ws?token=wrong")
            )
    assert refused.value.status == 401


async def test_a_malformed_event_on_the_bus_is_skipped_and_the_socket_goes_on(
    server: TestServer, services: Services, conversation: tuple[str, str]
) -> None:
    conversation_id, token = conversation
    async with aiohttp.ClientSession() as session:
        socket = await session.ws_connect(
            server.make_url(f"/api/conversations/{conversation_id}/ws").with_query(token=token)
        )
        topic = customer_topic(conversation_id)
        await services.bus.publish(topic, {"text": "no type"})
        await services.bus.publish(topic, {"type": "answer", "id": "not a number"})
        await services.bus.publish(topic, CustomerEvent(type="typing").to_dict())
        received = await asyncio.wait_for(socket.receive_json(), 5)
        assert received["type"] == "typing", "the malformed events were skipped, not sent"
        await socket.close()


async def test_rate_limit_per_conversation_loses_nothing_accepted(
    server: TestServer, services: Services, conversation: tuple[str, str]
) -> None:
    conversation_id, token = conversation
    path = f"/api/conversations/{conversation_id}/messages"
    statuses = []
    for n in range(4):
        status, body, response = await call(
            server, "POST", path, token=token, json={"text": f"question {n}"}
        )
        statuses.append(status)
    assert statuses == [202, 202, 202, 429]
    assert body["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    stored = [
        m.text for m in await services.store.messages(conversation_id) if m.kind == "customer"
    ]
    assert stored == ["question 0", "question 1", "question 2"], "every 202 was stored"


async def test_desk_guards(server: TestServer) -> None:
    status, body, _ = await call(
        server, "POST", "/api/desk/login", json={"username": "alice", "password": "wrong"}
    )
    assert (status, body["error"]["code"]) == (401, "bad_credentials")
    status, body, _ = await call(
        server, "POST", "/api/desk/login", json={"username": "ghost", "password": "whatever"}
    )
    assert (status, body["error"]["code"]) == (401, "bad_credentials")
    _, login, _ = await call(
        server, "POST", "/api/desk/login", json={"username": "alice", "password": "secret-pass"}
    )
    token = login["token"]
    status, body, _ = await call(server, "GET", "/api/desk/escalations/nope", token=token)
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body, _ = await call(
        server,
        "POST",
        "/api/desk/escalations/nope/actions",
        token=token,
        json={"action": "explode"},
    )
    assert (status, body["error"]["code"]) == (422, "invalid_action")
    status, body, _ = await call(
        server,
        "POST",
        "/api/desk/escalations/nope/actions",
        token=token,
        json={"action": "approve"},
    )
    assert status == 404
    status, _, _ = await call(server, "GET", "/api/desk/escalations", token="customer-token")
    assert status == 401, "customer tokens are not desk sessions"
    await call(server, "POST", "/api/desk/logout", token=token, json={})
    status, _, _ = await call(server, "GET", "/api/desk/escalations", token=token)
    assert status == 401, "signing out ends the session"


async def test_channel_endpoints_say_when_a_channel_is_off(server: TestServer) -> None:
    for path, code in (("/slack/events", "slack_off"), ("/api/messages", "teams_off")):
        status, body, _ = await call(server, "POST", path, json={"type": "message"})
        assert (status, body["error"]["code"]) == (404, code)

"""Malformed requests of every kind get a JSON 4xx before any work, never a 500 with a
traceback, and the server keeps serving (issue 12, fuzzing findings)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from integrations.composition import Services
from integrations.web.app import create_app
from tests.conftest import add_agent


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    await add_agent(services.store, "alice")
    async with TestServer(create_app(services.settings, services)) as test_server:
        yield test_server


async def _post(
    server: TestServer, path: str, body: bytes, content_type: str = "application/json"
) -> tuple[int, dict[str, object], str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url(path), data=body, headers={"Content-Type": content_type}
        ) as response:
            return (
                response.status,
                await response.json(),
                response.headers.get("X-Content-Type-Options", ""),
            )


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status"),
    [
        ("/api/ask", b"[" * 40000, "application/json", 400),
        ("/api/ask", b'{"text": "\\ud800"}', "application/json", 400),
        ("/api/ask", b'{"text": "a\\u0000b"}', "application/json", 400),
        ("/api/ask", b'{"text": "hi"}', "application/json; charset=bogus", 415),
        ("/api/ask", b'{"text": "hi"}', "application/json; charset=latin-1", 415),
        ("/api/conversations", b'{"customer": "\\udfff"}', "application/json", 400),
        ("/api/desk/login", b'{"username": "\\ud800", "password": "x"}', "application/json", 400),
        ("/slack/events", b"null", "application/json", 400),
        ("/slack/events", b"payload=%7Bnot+json", "application/x-www-form-urlencoded", 400),
        ("/slack/events", b"payload=%5B1%5D", "application/x-www-form-urlencoded", 400),
        (
            "/slack/events",
            b"payload=" + b"%5B" * 40 + b"%5D" * 40,
            "application/x-www-form-urlencoded",
            400,
        ),
        ("/slack/events", b"\xff\xfe=1", "application/x-www-form-urlencoded", 400),
        ("/slack/events", b"x" * (70 * 1024), "application/json", 413),
        ("/api/messages", b'"x"', "application/json", 400),
        ("/api/messages", b"x", "text/plain", 415),
    ],
)
async def test_malformed_bodies_get_a_json_4xx(
    server: TestServer, path: str, body: bytes, content_type: str, status: int
) -> None:
    got, payload, nosniff = await _post(server, path, body, content_type)
    assert got == status, payload
    assert isinstance(payload.get("error"), dict), "the error body is JSON"
    assert nosniff == "nosniff"


async def test_huge_ids_and_long_static_paths(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(server.make_url("/api/conversations"), json={}) as response:
            opened = await response.json()
        headers = {"Authorization": f"Bearer {opened['token']}"}
        path = f"/api/conversations/{opened['id']}/messages?after=9223372036854775808"
        async with session.get(server.make_url(path), headers=headers) as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "invalid_after"
        async with session.get(server.make_url("/static/" + "a" * 5000)) as response:
            assert response.status == 404
        async with session.get(server.make_url("/healthz")) as response:
            assert response.status == 200, "the server kept serving"


async def test_opening_conversations_is_limited_per_address(
    services: Services,
) -> None:
    services.settings = services.settings.model_copy(
        update={
            "server": services.settings.server.model_copy(
                update={"conversations_per_address_per_minute": 3}
            )
        }
    )
    async with TestServer(create_app(services.settings, services)) as server:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for _ in range(4):
                async with session.post(server.make_url("/api/conversations"), json={}) as r:
                    statuses.append(r.status)
                    body = await r.json()
            assert statuses == [201, 201, 201, 429]
            assert "new conversations" in body["error"]["message"]

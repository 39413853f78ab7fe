"""The one-tag embed on another site (issue 12 item 16): CORS for the customer API and socket,
for the allowlisted origins only; never for the desk API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from config import Settings
from integrations.composition import Services
from integrations.web.app import create_app

SHOP = "http://shop.example:8000"
EVIL = "http://evil.example"


def allowing(settings: Settings, *origins: str) -> Settings:
    server = settings.server.model_copy(update={"widget_origins": list(origins)})
    return settings.model_copy(update={"server": server})


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    app = create_app(allowing(services.settings, SHOP + "/"), services)
    async with TestServer(app) as test_server:
        yield test_server


def test_the_setting_reads_a_list_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, clean_env: object
) -> None:
    monkeypatch.setenv("TANDEM_SERVER__WIDGET_ORIGINS", f'["{SHOP}", "https://b.example"]')
    assert Settings().server.widget_origins == [SHOP, "https://b.example"]
    monkeypatch.delenv("TANDEM_SERVER__WIDGET_ORIGINS")
    assert Settings().server.widget_origins == [], "empty: same-origin only"


async def _preflight(server: TestServer, path: str, origin: str) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        async with session.options(
            server.make_url(path),
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        ) as response:
            await response.read()
            return response


async def test_an_allowed_origin_gets_a_preflight_and_cors_headers(server: TestServer) -> None:
    preflight = await _preflight(server, "/api/conversations", SHOP)
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed_headers = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in preflight.headers

    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/conversations"), json={}, headers={"Origin": SHOP}
        ) as response:
            assert response.status == 201
            assert response.headers["Access-Control-Allow-Origin"] == SHOP
            assert "Origin" in response.headers["Vary"]
            opened = await response.json()
        bearer = {"Origin": SHOP, "Authorization": f"Bearer {opened['token']}"}
        path = f"/api/conversations/{opened['id']}/messages"
        async with session.post(server.make_url(path), json={}, headers=bearer) as response:
            assert response.status == 422, "errors carry the headers too, so the widget reads them"
            assert response.headers["Access-Control-Allow-Origin"] == SHOP
        socket = await session.ws_connect(
            server.make_url(f"/api/conversations/{opened['id']}/ws").with_query(
                token=opened["token"]
            ),
            headers={"Origin": SHOP},
        )
        await socket.close()


async def test_another_origin_is_refused_everywhere(server: TestServer) -> None:
    preflight = await _preflight(server, "/api/conversations", EVIL)
    assert preflight.status == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/conversations"), json={}, headers={"Origin": EVIL}
        ) as response:
            assert response.status == 403
        async with session.post(server.make_url("/api/conversations"), json={}) as response:
            opened = await response.json()  # a script (no Origin) passes
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                server.make_url(f"/api/conversations/{opened['id']}/ws").with_query(
                    token=opened["token"]
                ),
                headers={"Origin": EVIL},
            )
        assert refused.value.status == 403
        same = f"http://{server.host}:{server.port}"
        async with session.post(
            server.make_url("/api/conversations"), json={}, headers={"Origin": same}
        ) as response:
            assert response.status == 201, "the same origin always passes"
            assert "Access-Control-Allow-Origin" not in response.headers


async def test_the_desk_api_never_gets_cors(server: TestServer) -> None:
    preflight = await _preflight(server, "/api/desk/login", SHOP)
    assert "Access-Control-Allow-Origin" not in preflight.headers
    async with aiohttp.ClientSession() as session:
        async with session.get(
            server.make_url("/api/desk/me"), headers={"Origin": SHOP}
        ) as response:
            assert response.status == 401
            assert "Access-Control-Allow-Origin" not in response.headers

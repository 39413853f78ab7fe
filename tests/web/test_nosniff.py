"""Every response says ``nosniff``: API answers and errors, pages, static files (the widget
others embed) and their 404s (issue 12 item 19)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from integrations.composition import Services
from integrations.web.app import create_app


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(services.settings, services)) as test_server:
        yield test_server


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/static/widget.js", 200),
        ("GET", "/static/widget.css", 200),
        ("GET", "/static/desk.js", 200),
        ("GET", "/static/no-such-file.js", 404),
        ("GET", "/", 200),
        ("GET", "/desk", 200),
        ("GET", "/healthz", 200),
        ("GET", "/metrics", 200),
        ("POST", "/api/conversations", 201),
        ("GET", "/api/desk/me", 401),
        ("GET", "/api/nothing-here", 404),
        ("GET", "/nothing-here", 404),
        ("DELETE", "/api/conversations", 405),
    ],
)
async def test_every_response_is_nosniff(
    server: TestServer, method: str, path: str, status: int
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, server.make_url(path)) as response:
            assert response.status == status
            assert response.headers.get("X-Content-Type-Options") == "nosniff"


async def test_a_revalidated_static_file_is_nosniff(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/static/widget.js")) as response:
            modified = response.headers["Last-Modified"]
        async with session.get(
            server.make_url("/static/widget.js"), headers={"If-Modified-Since": modified}
        ) as response:
            assert response.status == 304
            assert response.headers.get("X-Content-Type-Options") == "nosniff"

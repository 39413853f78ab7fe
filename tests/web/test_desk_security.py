"""The desk under attack: cross-site forms and sockets, password guessing, and a password reset
that must end the old sessions (issue 12, items 13 and 14)."""

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


async def test_desk_posts_must_be_json_and_the_socket_checks_origin(server: TestServer) -> None:
    """A form on another page of the same host cannot act for a signed-in agent (CSRF)."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        login = {"username": "alice", "password": "secret-pass"}
        async with session.post(server.make_url("/api/desk/login"), json=login) as response:
            assert response.status == 200
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with session.post(
            server.make_url("/api/desk/logout"), data=b"", headers=form
        ) as response:
            assert response.status == 415
        async with session.get(server.make_url("/api/desk/me")) as response:
            assert response.status == 200, "the form did not sign the agent out"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                server.make_url("/api/desk/ws"), headers={"Origin": "http://127.0.0.1:1"}
            )
        assert refused.value.status == 403
        socket = await session.ws_connect(
            server.make_url("/api/desk/ws"),
            headers={"Origin": f"http://{server.host}:{server.port}"},
        )
        assert (await socket.receive_json())["type"] == "hello"
        await socket.close()


async def test_failed_logins_are_limited_per_account(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        wrong = {"username": "alice", "password": "wrong-guess"}
        statuses = []
        for _ in range(6):
            async with session.post(server.make_url("/api/desk/login"), json=wrong) as response:
                statuses.append(response.status)
        assert statuses == [401] * 5 + [429]
        right = {"username": "alice", "password": "secret-pass"}
        async with session.post(server.make_url("/api/desk/login"), json=right) as response:
            assert response.status == 429, "even the right password waits out the window"
            assert int(response.headers["Retry-After"]) > 0


async def test_a_password_reset_ends_the_old_sessions(
    server: TestServer, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        login = {"username": "alice", "password": "secret-pass"}
        async with session.post(server.make_url("/api/desk/login"), json=login) as response:
            token = (await response.json())["token"]
        await add_agent(services.store, "alice", "a-new-password")
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(server.make_url("/api/desk/me"), headers=headers) as response:
            assert response.status == 401

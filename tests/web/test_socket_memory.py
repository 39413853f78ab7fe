"""Closed WebSockets give their memory back (issue 13 item 5): aiohttp's closed sockets sit in
reference cycles that only a full garbage collection frees, so the server collects once closes
pause, and freezes what start-up built so that a collection is cheap."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from integrations.composition import Services
from integrations.web.app import create_app
from integrations.web.keys import RECLAIMER, SOCKETS
from tests.conftest import eventually

SOCKETS_OPENED = 10


@pytest.fixture()
def no_automatic_gc() -> Iterator[None]:
    """Only the server's reclaimer collects cycles during the test."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest_asyncio.fixture()
async def served(services: Services) -> AsyncIterator[tuple[web.Application, TestServer]]:
    app = create_app(services.settings, services)
    app[RECLAIMER].quiet = 0.2
    async with TestServer(app) as server:
        yield app, server


async def _open(
    session: aiohttp.ClientSession, server: TestServer
) -> aiohttp.ClientWebSocketResponse:
    async with session.post(server.make_url("/api/conversations"), json={}) as response:
        opened = await response.json()
    return await session.ws_connect(
        server.make_url(f"/api/conversations/{opened['id']}/ws").with_query(token=opened["token"])
    )


async def test_closed_sockets_are_freed_once_closes_pause(
    served: tuple[web.Application, TestServer], no_automatic_gc: None
) -> None:
    app, server = served
    async with aiohttp.ClientSession() as session:
        clients = [await _open(session, server) for _ in range(SOCKETS_OPENED)]

        async def all_held() -> bool:
            return len(app[SOCKETS]) == SOCKETS_OPENED

        await eventually(all_held, "the server to hold the sockets")
        held = [weakref.ref(socket) for socket in app[SOCKETS]]
        runs = app[RECLAIMER].runs
        await asyncio.gather(*(client.close() for client in clients))

        async def all_freed() -> bool:
            return all(ref() is None for ref in held)

        await eventually(all_freed, "the closed sockets to be freed", timeout=5)
    assert app[RECLAIMER].runs > runs
    assert not app[SOCKETS]


async def test_start_up_is_frozen_and_thawed_on_cleanup(services: Services) -> None:
    app = create_app(services.settings, services)
    async with TestServer(app):
        assert gc.get_freeze_count() > 0, "start-up's objects are out of the collector's walk"
    assert gc.get_freeze_count() == 0

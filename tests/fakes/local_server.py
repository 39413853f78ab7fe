"""The part every local fake shares: an aiohttp server on a free port that records what it is
sent, and a way to wait until the record says enough."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Self

from aiohttp import web
from aiohttp.test_utils import TestServer


class LocalFake:
    """Subclasses add their routes in ``routes`` and call ``recorded()`` after each request."""

    def __init__(self) -> None:
        self.server: TestServer | None = None
        self._changed = asyncio.Event()

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def recorded(self) -> None:
        self._changed.set()

    def url_of(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def until(self, reached: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``reached()`` is true after some request (fails after ``timeout`` s)."""

        async def wait() -> None:
            while not reached():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.close()

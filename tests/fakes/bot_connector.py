"""A local fake Bot Connector (the service a ``serviceUrl`` points at): records every activity
the bot sends or updates, and answers with ids like the real one."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    method: str
    conversation: str
    activity_id: str | None
    activity: dict[str, Any]


@dataclass
class FakeConnector:
    sent: list[Sent] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def to(self, conversation: str, method: str = "POST") -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation and s.method == method]

    async def wait(self, predicate: Any, timeout: float = 10) -> list[Sent]:
        async def reached() -> None:
            while not predicate(self.sent):
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(reached(), timeout)
        return self.sent

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(
            Sent(
                request.method,
                request.match_info["conversation"],
                request.match_info.get("activity"),
                body,
            )
        )
        self.changed.set()
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activity"]})
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def __aenter__(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self.handle)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.handle)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.handle)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.close()

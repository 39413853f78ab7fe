"""A local fake Bot Connector (the service a ``serviceUrl`` points at): records every activity
the bot sends or updates, and answers with ids like the real one."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalFake


@dataclass
class Sent:
    method: str
    conversation: str
    activity_id: str | None
    activity: dict[str, Any]


class FakeConnector(LocalFake):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return self.url_of("/")

    def to(self, conversation: str, method: str = "POST") -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation and s.method == method]

    async def wait(self, predicate: Any, timeout: float = 10) -> list[Sent]:
        await self.until(lambda: bool(predicate(self.sent)), timeout)
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
        self.recorded()
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activity"]})
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    def routes(self, app: web.Application) -> None:
        activities = "/v3/conversations/{conversation}/activities"
        app.router.add_post(activities, self.handle)
        app.router.add_post(activities + "/{activity}", self.handle)
        app.router.add_put(activities + "/{activity}", self.handle)

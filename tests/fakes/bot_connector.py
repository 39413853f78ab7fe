"""A local fake Bot Connector (the service a ``serviceUrl`` points at): records every activity
the bot sends or updates, and answers with ids like the real one. A test can make the next
sends to a conversation fail (429 with ``Retry-After``, 5xx) or hold them until released."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
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
    status: int = 200


class FakeConnector(LocalFake):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.failures: defaultdict[str, list[tuple[str | None, int, dict[str, str]]]] = defaultdict(
            list
        )
        self.holds: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)

    def fail_next(
        self,
        conversation: str,
        *,
        method: str | None = None,
        status: int = 503,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``conversation`` (only ``method`` ones if
        given) with ``status``; they are recorded in ``sent`` all the same, as attempts."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures[conversation].extend([(method, status, headers)] * times)

    def _failure(self, conversation: str, method: str) -> tuple[int, dict[str, str]]:
        pending = self.failures[conversation]
        for index, (only, status, headers) in enumerate(pending):
            if only in (None, method):
                del pending[index]
                return status, headers
        return 200, {}

    def hold(self, conversation: str) -> asyncio.Event:
        """Keep requests to ``conversation`` waiting until the returned event is set."""
        return self.holds.setdefault(conversation, asyncio.Event())

    def delivered(self, conversation: str) -> list[Sent]:
        """What reached ``conversation``: POSTs the fake answered with success."""
        return [s for s in self.to(conversation) if s.status < 300]

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
        conversation = request.match_info["conversation"]
        if conversation in self.holds:
            await self.holds[conversation].wait()
        status, headers = self._failure(conversation, request.method)
        self.sent.append(
            Sent(request.method, conversation, request.match_info.get("activity"), body, status)
        )
        self.recorded()
        if status >= 300:
            return web.json_response(
                {"error": {"code": "ServiceError"}}, status=status, headers=headers
            )
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activity"]})
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    def routes(self, app: web.Application) -> None:
        activities = "/v3/conversations/{conversation}/activities"
        app.router.add_post(activities, self.handle)
        app.router.add_post(activities + "/{activity}", self.handle)
        app.router.add_put(activities + "/{activity}", self.handle)

"""A local fake of the Slack Web API: records every call and answers like Slack. A test can
make the next calls of a method answer 429 (with ``Retry-After``) or an error."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalFake


@dataclass
class Call:
    method: str
    args: dict[str, Any]


class FakeSlack(LocalFake):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.failures: defaultdict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = (
            defaultdict(list)
        )
        self.names = {"U0AGENT01": "Alice", "U0AGENT02": "Bob"}
        self._ts = itertools.count(1)

    @property
    def url(self) -> str:
        return self.url_of("/api/")

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str = "",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error")}
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures[method].extend([(status, body, headers)] * times)

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        await self.until(lambda: len(self.of(method)) >= count, timeout)
        return self.of(method)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            args: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        self.calls.append(Call(method, args))
        self.recorded()
        if self.failures[method]:
            status, body, headers = self.failures[method].pop(0)
            return web.json_response(body, status=status, headers=headers)
        return web.json_response(self.answer(method, args))

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://tandem-agents.slack.com/",
                "team": "Tandem",
                "user": "tandem",
                "team_id": "T0TANDEM1",
                "user_id": "U0TANDEMBOT",
                "bot_id": "B0TANDEM01",
            }
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"ts": ts, "text": args.get("text", "")},
            }
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "users.info":
            user = str(args.get("user"))
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "real_name": self.names.get(user, user),
                    "profile": {"display_name": self.names.get(user, "")},
                },
            }
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0EDIT0001", **args.get("view", {})}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": []}
        return {"ok": True}

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self.handle)

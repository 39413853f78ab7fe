"""Typed application keys, and background work tied to the application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from aiohttp import web

from integrations.composition import Services
from integrations.web.limits import RateLimiter

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
LIMITER = web.AppKey("limiter", RateLimiter)
logger = logging.getLogger(__name__)


class ChannelAdapter(Protocol):
    """An agent channel mounted on the server (Slack, Teams)."""

    async def handle(self, request: web.Request) -> web.Response: ...

    async def close(self) -> None: ...


SLACK = web.AppKey("slack", ChannelAdapter)  # present when Slack is on
TEAMS = web.AppKey("teams", ChannelAdapter)  # present when Teams / Bot Framework is on
SOCKETS = web.AppKey[set[web.WebSocketResponse]]("sockets")
TASKS = web.AppKey[set[asyncio.Task[None]]]("tasks")


def in_background(app: web.Application, work: Coroutine[Any, Any, None]) -> None:
    """Run slow work after the acknowledgement; the server awaits it on shutdown."""
    task = asyncio.create_task(work)
    tasks = app[TASKS]
    tasks.add(task)

    def done(finished: asyncio.Task[None]) -> None:
        tasks.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            logger.error("background work failed", exc_info=finished.exception())

    task.add_done_callback(done)

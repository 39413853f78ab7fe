"""Typed application keys, and background work tied to the application."""

from __future__ import annotations

import logging
from typing import Protocol

from aiohttp import web

from integrations.background import Background
from integrations.composition import Services
from integrations.web.limits import RateLimiter
from integrations.web.login_guard import LoginGuard
from integrations.web.reclaim import Reclaimer

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
LIMITER = web.AppKey("limiter", RateLimiter)
LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)
logger = logging.getLogger(__name__)


class ChannelAdapter(Protocol):
    """An agent channel mounted on the server (Slack, Teams)."""

    async def handle(self, request: web.Request) -> web.Response: ...

    async def close(self) -> None: ...


class Closeable(Protocol):
    """Work that runs alongside the server until it is closed."""

    async def close(self) -> None: ...


SLACK = web.AppKey("slack", ChannelAdapter)  # present when Slack is on
TEAMS = web.AppKey("teams", ChannelAdapter)  # present when Teams / Bot Framework is on
SOCKETS = web.AppKey[set[web.WebSocketResponse]]("sockets")
RECLAIMER = web.AppKey("reclaimer", Reclaimer)  # frees closed sockets' memory
PROPOSALS = web.AppKey("proposals", Closeable)  # present when a model proposes articles
TASKS = web.AppKey("tasks", Background)  # work after the acknowledgement
BODY_TIMEOUT = web.AppKey("body_timeout", float)  # seconds to send a request body

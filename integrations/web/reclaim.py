"""Memory back when WebSockets close (issue 13 item 5).

A closed aiohttp WebSocket is never freed by reference counting: its connection handler keeps
the socket's data callback, which holds the socket, which holds the request, which holds the
handler (and asyncio's transport refers to itself). So every closed socket's objects (request,
handler, transport, reader, writer, about 22 kB) wait for a full pass of the cyclic garbage
collector, which a quiet server seldom runs: 1,000 closed sockets stayed resident. After a
socket closes, once closes have paused for ``quiet`` seconds, the reclaimer collects garbage
and trims the heap (``integrations.memory``).

A full collection walks every object the collector tracks: about 240,000 after start-up (the
model, the knowledge base, the imports), 150-230 ms on the event loop. Once the service has
started they are frozen (``gc.freeze``: moved to a generation that is never collected), so a
collection walks only what came after, and the start-up garbage (an ingest, a classifier fit)
is collected and trimmed first.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable

from aiohttp import web

from integrations.memory import release_freed_memory

logger = logging.getLogger(__name__)
QUIET_S = 2.0


class Reclaimer:
    """Args:
    quiet: Seconds without a socket closing before the garbage is collected.
    release: Gives freed heap memory back to the operating system (run in a thread).
    """

    def __init__(
        self, quiet: float = QUIET_S, release: Callable[[], object] = release_freed_memory
    ) -> None:
        self.quiet = quiet
        self.release = release
        self.runs = 0
        self._timer: asyncio.TimerHandle | None = None
        self._trim: asyncio.Task[object] | None = None

    def closed(self) -> None:
        """A socket closed: reclaim once closes have paused for ``quiet`` seconds."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self.quiet, self._reclaim)

    def _reclaim(self) -> None:
        self._timer = None
        self.runs += 1
        gc.collect()
        if self._trim is None or self._trim.done():
            self._trim = asyncio.create_task(asyncio.to_thread(self.release))

    async def on_startup(self, app: web.Application) -> None:
        """Collect and trim what start-up left, then freeze what remains."""
        gc.collect()
        gc.freeze()
        await asyncio.to_thread(self.release)

    async def on_cleanup(self, app: web.Application) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._trim is not None:
            await asyncio.gather(self._trim, return_exceptions=True)
        gc.unfreeze()

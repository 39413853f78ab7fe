"""Work that runs after an acknowledgement, tracked so that shutdown can finish or stop it and a
failure is logged rather than lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class Background:
    """A set of running tasks."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work failed", exc_info=task.exception())

    @property
    def busy(self) -> bool:
        """Some work is still running."""
        return bool(self._tasks)

    async def settle(self, timeout: float | None = None) -> None:
        """Wait for the work under way (at most ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def cancel(self) -> None:
        """Stop everything (long-running relays)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def repeat(
    what: str, interval: float, work: Callable[[], Awaitable[int]], *, at_once: bool = False
) -> None:
    """Run ``work`` every ``interval`` seconds (first at once if ``at_once``) until cancelled; a
    failure is logged and the next round goes on, and a non-zero count is logged as ``what``."""
    if not at_once:
        await asyncio.sleep(interval)
    while True:
        try:
            if count := await work():
                logger.info(what, extra={"count": count})
        except Exception:
            logger.exception("%s: the sweep failed", what)
        await asyncio.sleep(interval)

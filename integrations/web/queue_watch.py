"""Re-announces escalations nobody picked up in time, on every replica (each announcement
happens once: the engine keys it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from integrations.web.keys import SERVICES

logger = logging.getLogger(__name__)
SWEEP_EVERY_S = 30.0
SWEEP_INTERVAL: web.AppKey[float] = web.AppKey("queue_sweep_interval", float)


async def watch_queue(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp cleanup context: sweep the queue every ``SWEEP_INTERVAL`` seconds."""
    every = app.get(SWEEP_INTERVAL, SWEEP_EVERY_S)

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                count = await app[SERVICES].engine.reannounce_due()
            except Exception:
                logger.exception("re-announcing waiting escalations failed")
                continue
            if count:
                logger.info("re-announced waiting escalations", extra={"count": count})

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

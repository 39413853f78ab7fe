"""The recovery sweep, on every replica: customer messages nobody is handling (a replica died
holding them, or gave up on them after conflicts) are claimed and handled by a live replica
without waiting for a restart. The claim makes it safe to run everywhere at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from integrations.web.keys import SERVICES

logger = logging.getLogger(__name__)


async def sweep_messages(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp cleanup context: ``engine.recover`` every ``recovery_sweep_seconds``."""

    async def loop() -> None:
        while SERVICES not in app:  # cleanup contexts start before the services are built
            await asyncio.sleep(0.1)
        services = app[SERVICES]
        while True:
            await asyncio.sleep(services.settings.server.recovery_sweep_seconds)
            try:
                count = await services.engine.recover()
            except Exception:
                logger.exception("the recovery sweep failed")
                continue
            if count:
                logger.info("handled messages nobody was handling", extra={"count": count})

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

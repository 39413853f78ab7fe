"""Work every replica repeats while it serves, each safe to run everywhere at once:

- the recovery sweep: customer messages nobody is handling (a replica died holding them, or
  gave up on them after conflicts) are claimed and handled without waiting for a restart;
- the queue sweep: escalations nobody picked up in time are announced again (the engine keys
  each round, so it happens once);
- the live threshold: outcomes and answers recorded by any replica move this one's threshold
  and its ``/metrics`` (answers past their retention are deleted first);
- the traffic window: the questions every replica noted become this one's
  (``knowledge.traffic``), on the same interval;
- the knowledge base, on a Chroma server only: a change another process made to the store
  (another replica's ingest, an admin's ``tandem kb ingest``) is picked up, its models loaded
  or refitted here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from integrations.background import repeat
from integrations.composition import Services
from integrations.learning import forget_old_answers, refresh_live_threshold, share_traffic
from integrations.web.keys import SERVICES

QUEUE_SWEEP_S = 30.0

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def periodic(
    what: str,
    interval: Callable[[Services], float],
    work: Callable[[Services], Awaitable[int]],
) -> CleanupContext:
    """An aiohttp cleanup context that runs ``work`` every ``interval`` seconds once the
    services are built; a failure is logged and the next round goes on. ``what`` names the
    work's count in the log."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while SERVICES not in app:  # cleanup contexts start before the services are built
                await asyncio.sleep(0.1)
            services = app[SERVICES]
            await repeat(what, interval(services), lambda: work(services))

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return context


sweep_messages = periodic(
    "handled messages nobody was handling",
    lambda services: services.settings.server.recovery_sweep_seconds,
    lambda services: services.engine.recover(),
)
watch_queue = periodic(
    "re-announced waiting escalations",
    lambda services: QUEUE_SWEEP_S,
    lambda services: services.engine.reannounce_due(),
)


async def _follow_live_outcomes(services: Services) -> int:
    before = services.knowledge_base.live_threshold
    learning = services.settings.learning
    await forget_old_answers(services.learning, learning)
    await refresh_live_threshold(
        services.learning, services.knowledge_base, learning, services.metrics
    )
    return int(services.knowledge_base.live_threshold != before)


follow_live_outcomes = periodic(
    "live threshold changes",
    lambda services: services.settings.learning.live_refresh_seconds,
    _follow_live_outcomes,
)


async def _follow_traffic_window(services: Services) -> int:
    await share_traffic(services.learning, services.knowledge_base)
    return 0  # nothing to count each round: a new threshold is logged where it is read


follow_traffic_window = periodic(
    "shared traffic window",
    lambda services: services.settings.learning.live_refresh_seconds,
    _follow_traffic_window,
)


async def _follow_knowledge(services: Services) -> int:
    return int(await asyncio.to_thread(services.knowledge_base.follow_store))


follow_knowledge = periodic(
    "knowledge base reloads after a change elsewhere",
    lambda services: services.settings.knowledge.change_check_seconds,
    _follow_knowledge,
)

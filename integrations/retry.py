"""Retry a post to an agent channel with backoff; the escalation stays on the desk meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)
DELAYS = (1, 2, 5, 10, 30, 60, 120, 300)


async def with_backoff(
    attempt: Callable[[], Awaitable[None]],
    *,
    what: str,
    failed: Callable[[Exception], None],
    retry_on: tuple[type[Exception], ...],
    delays: tuple[float, ...] = DELAYS,
) -> bool:
    """Call ``attempt`` until it succeeds or the delays run out; True when it succeeded.

    Args:
        attempt: The post.
        what: Names it in the log.
        failed: Called with each failure (metrics).
        retry_on: The errors worth retrying.
        delays: Seconds to wait before each retry.
    """
    for number, delay in enumerate((0.0, *delays), start=1):
        await asyncio.sleep(delay)
        try:
            await attempt()
            return True
        except retry_on as failure:
            failed(failure)
            logger.warning(
                "%s failed; it stays on the desk and is retried",
                what,
                extra={"attempt": number, "error": str(failure)},
            )
    logger.error("gave up: %s; it is retried at the next start", what)
    return False

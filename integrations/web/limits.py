"""Rate limits: messages per conversation and per address, conversations opened per address.

A moving window per key through the ``limits`` library: in memory on one replica, or on Redis
when ``TANDEM_STORAGE__REDIS_URL`` is set, so that a limit holds across replicas. Idle keys
expire by themselves.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from integrations.web.errors import ApiError

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool


class RateLimiter:
    """Args:
    limit: Hits allowed per minute for keys checked without their own limit.
    redis_url: A Redis URL shared by every replica (else the limits are per replica).
    """

    def __init__(self, limit: int, *, redis_url: str | None = None) -> None:
        self.limit = limit
        self._pool: ConnectionPool | None = None
        if redis_url:
            from redis.asyncio import ConnectionPool  # only with Redis (about 7 MB)

            # Our own pool, so that closing the server closes its connections.
            self._pool = ConnectionPool.from_url(redis_url)
            storage = storage_from_string(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix="tandem-limits",
                connection_pool=self._pool,  # type: ignore[arg-type]  # passed to redis-py as is
            )
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def check(self, key: str, limit: int | None = None, what: str = "messages") -> None:
        """Count a hit for ``key``, or raise a 429 with ``Retry-After`` when it is over."""
        item = RateLimitItemPerMinute(limit or self.limit)
        if await self._limiter.hit(item, key):
            return
        stats = await self._limiter.get_window_stats(item, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(429, "rate_limited", f"too many {what}; slow down", retry_after=retry)

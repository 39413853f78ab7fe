"""Rate limits: messages per conversation and per address, conversations opened per address.

A moving window per key, in memory (one replica's view: each replica limits its own traffic).
Keys idle for a whole window are forgotten, and at most ``MAX_KEYS`` are kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from integrations.web.errors import ApiError

MAX_KEYS = 50_000


class RateLimiter:
    """Args:
    limit: Hits allowed per window for keys checked without their own limit.
    window_s: The window in seconds.
    """

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit, self.window = limit, window_s
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, key: str, limit: int | None = None, what: str = "messages") -> None:
        """Count a hit for ``key``, or raise a 429 with ``Retry-After`` when it is over."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= (limit or self.limit):
            retry = int(hits[0] + self.window - now) + 1
            raise ApiError(429, "rate_limited", f"too many {what}; slow down", retry_after=retry)
        hits.append(now)
        self._forget(now)

    def _forget(self, now: float) -> None:
        while self._hits:
            oldest_key, oldest = next(iter(self._hits.items()))
            idle = not oldest or oldest[-1] <= now - self.window
            if len(self._hits) <= MAX_KEYS and not idle:
                return
            del self._hits[oldest_key]

    def __len__(self) -> int:
        return len(self._hits)

"""Per-conversation rate limits."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from integrations.web.errors import ApiError


class RateLimiter:
    """A sliding window per key (one replica's view; each replica limits its own traffic)."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit, self.window = limit, window_s
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)

    def check(self, key: str) -> None:
        now = time.monotonic()
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = int(hits[0] + self.window - now) + 1
            raise ApiError(429, "rate_limited", "too many messages; slow down", retry_after=retry)
        hits.append(now)

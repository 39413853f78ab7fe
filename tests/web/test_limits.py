"""The rate limiter forgets idle keys and limits each key on its own."""

from __future__ import annotations

import time

import pytest

from integrations.web.errors import ApiError
from integrations.web.limits import RateLimiter


def test_each_key_has_its_own_window_and_limit() -> None:
    limiter = RateLimiter(2, window_s=60)
    limiter.check("conversation:a")
    limiter.check("conversation:a")
    with pytest.raises(ApiError) as over:
        limiter.check("conversation:a")
    assert over.value.status == 429 and over.value.extra["retry_after"] >= 1
    limiter.check("conversation:b")
    for _ in range(5):
        limiter.check("address:1.2.3.4", limit=10)


def test_idle_keys_are_forgotten() -> None:
    limiter = RateLimiter(5, window_s=0.01)
    for index in range(100):
        limiter.check(f"conversation:{index}")
    time.sleep(0.02)
    limiter.check("conversation:new")
    assert len(limiter) == 1

"""Rate limits through the ``limits`` library: each key on its own, and on Redis one limit for
every replica."""

from __future__ import annotations

import uuid

import pytest

from integrations.web.errors import ApiError
from integrations.web.limits import RateLimiter
from tests.backing_services import REDIS, require


async def test_each_key_has_its_own_window_and_limit() -> None:
    limiter = RateLimiter(2)
    await limiter.check("conversation:a")
    await limiter.check("conversation:a")
    with pytest.raises(ApiError) as over:
        await limiter.check("conversation:a")
    assert over.value.status == 429 and 1 <= over.value.extra["retry_after"] <= 60
    await limiter.check("conversation:b")
    for _ in range(5):
        await limiter.check("address:1.2.3.4", limit=10)


async def test_on_redis_the_limit_holds_across_replicas() -> None:
    require("redis")
    url = f"redis://{REDIS[0]}:{REDIS[1]}"
    first, second = RateLimiter(3, redis_url=url), RateLimiter(3, redis_url=url)
    key = f"conversation:{uuid.uuid4().hex}"
    try:
        await first.check(key)
        await second.check(key)
        await first.check(key)
        with pytest.raises(ApiError) as over:
            await second.check(key)
        assert over.value.status == 429
    finally:
        await first.close()
        await second.close()

"""The Redis event bus: the ``EventBus`` port across replicas. Every replica publishes to Redis
and one pattern subscription per replica feeds its local subscribers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import redis.asyncio as redis

from bot.bus import LocalBus

logger = logging.getLogger(__name__)
PREFIX = "tandem:"


class RedisBus:
    """Args:
    url: ``redis://host:port/db``.
    """

    def __init__(self, url: str) -> None:
        self._redis = redis.from_url(url)
        self._local = LocalBus()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Connect and start relaying; fails loudly if Redis is unreachable."""
        await self._redis.ping()
        self._reader = asyncio.create_task(self._relay(), name="redis-bus")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _relay(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{PREFIX}*")
                    self._ready.set()
                    async for item in pubsub.listen():
                        if item.get("type") != "pmessage":
                            continue
                        topic = item["channel"].decode().removeprefix(PREFIX)
                        self._local.deliver(topic, json.loads(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # the connection dropped: resubscribe after a pause
                logger.exception("redis bus lost its subscription; reconnecting")
                await asyncio.sleep(1)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._redis.publish(PREFIX + topic, json.dumps(event))

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        return self._local.subscribe(topic)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
        await self._local.close()
        await self._redis.aclose()

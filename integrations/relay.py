"""What every agent channel does with the engine's events: follow a topic, and pick the messages
a card's thread should show, each relayed once across replicas."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from bot.conversation import Kind, Message
from bot.events import AgentEvent
from bot.ports import EventBus
from integrations.storage.posts import PostStore
from integrations.storage.sql_store import SqlStore

logger = logging.getLogger(__name__)


async def follow(
    bus: EventBus, topic: str, handle: Callable[[dict[str, Any]], Awaitable[None]], what: str
) -> None:
    """Hand every event on ``topic`` to ``handle`` until cancelled; one failure is logged and
    the relay goes on."""
    async with bus.subscribe(topic) as events:
        async for event in events:
            try:
                await handle(event)
            except Exception:
                logger.exception("%s failed", what, extra={"event": event})


async def thread_messages(
    store: SqlStore, posts: PostStore, event: AgentEvent, kinds: Collection[Kind]
) -> list[Message]:
    """The messages an agent event names that a card's thread shows (``kinds``) and no replica
    has relayed yet."""
    wanted = set(event.messages)
    if not wanted:
        return []
    messages = await store.messages(event.conversation_id, internal=True, after=min(wanted) - 1)
    return [
        m
        for m in messages
        if m.id in wanted and m.kind in kinds and await posts.once(f"relay:{m.id}")
    ]

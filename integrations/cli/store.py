"""Open the conversation store for one CLI command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from config import Settings
from integrations.composition import database_url
from integrations.storage import SqlStore, open_store

T = TypeVar("T")


async def with_store(settings: Settings, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    store = await open_store(database_url(settings))
    try:
        return await work(store)
    finally:
        await store.close()

"""Open the conversation store for one CLI command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from config import Settings

if TYPE_CHECKING:  # imported when used: keeps every other command's start fast
    from integrations.storage import SqlStore

T = TypeVar("T")


async def with_store(settings: Settings, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    from integrations.composition import database_url
    from integrations.storage import open_store

    store = await open_store(database_url(settings))
    try:
        return await work(store)
    finally:
        await store.close()

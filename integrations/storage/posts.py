"""Where each escalation's card lives in an agent channel. Replicas claim a post before making
it, so exactly one of them posts; a claim that never got posted is retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from integrations.storage.database import Database
from integrations.storage.tables import channel_posts


@dataclass(frozen=True)
class Post:
    escalation_id: str
    kind: str
    channel: str
    ref: str | None
    extra: dict[str, Any]


def _post(row: dict[str, Any]) -> Post:
    return Post(row["escalation_id"], row["kind"], row["channel"], row["ref"], row["extra"] or {})


class PostStore:
    """Args:
    store: The conversation store whose database holds the posts.
    kind: ``slack`` or ``teams``.
    """

    def __init__(self, store: Database, kind: str) -> None:
        self.store, self.kind = store, kind

    async def claim(self, escalation_id: str, channel: str) -> bool:
        """True for the one caller that may post this escalation's card."""
        try:
            async with self.store.transaction() as connection:
                await connection.execute(
                    insert(channel_posts).values(
                        escalation_id=escalation_id,
                        kind=self.kind,
                        channel=channel,
                        extra={},
                        claimed_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def posted(
        self, escalation_id: str, ref: str, extra: dict[str, Any] | None = None
    ) -> None:
        async with self.store.transaction() as connection:
            await connection.execute(
                update(channel_posts)
                .where(
                    channel_posts.c.escalation_id == escalation_id,
                    channel_posts.c.kind == self.kind,
                )
                .values(ref=ref, extra=extra or {}, posted_at=datetime.now(UTC))
            )

    async def of(self, escalation_id: str) -> Post | None:
        rows = await self._select(channel_posts.c.escalation_id == escalation_id)
        return rows[0] if rows else None

    async def by_ref(self, channel: str, ref: str) -> Post | None:
        rows = await self._select(channel_posts.c.channel == channel, channel_posts.c.ref == ref)
        return rows[0] if rows else None

    async def unposted(self) -> list[Post]:
        return await self._select(channel_posts.c.ref.is_(None))

    async def once(self, key: str) -> bool:
        """True the first time ``key`` is seen (relays each message into a thread once)."""
        return await self.store.claim(f"{self.kind}:{key}")

    async def seen(self, key: str) -> bool:
        """Whether ``once`` was called with ``key`` (on any replica), without claiming it."""
        return await self.store.has_key(f"{self.kind}:{key}")

    async def _select(self, *conditions: Any) -> list[Post]:
        query = select(channel_posts).where(channel_posts.c.kind == self.kind, *conditions)
        async with self.store.reading() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_post(dict(r)) for r in rows]

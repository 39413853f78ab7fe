"""Stored Bot Framework conversation references, for proactive messages, and the outbox of
each customer conversation: the last reply delivered, and which replica is delivering."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, insert, or_, select, update

from integrations.storage.database import Database
from integrations.storage.tables import bot_references, messages


class ReferenceStore:
    """Args:
    store: The conversation store whose database holds the references.
    """

    def __init__(self, store: Database) -> None:
        self.store = store

    async def save(
        self, key: str, reference: dict[str, Any], conversation_id: str | None = None
    ) -> None:
        values = {"reference": reference, "updated_at": datetime.now(UTC)}
        if conversation_id is not None:
            values["conversation_id"] = conversation_id
        async with self.store.transaction() as connection:
            result = await connection.execute(
                update(bot_references).where(bot_references.c.key == key).values(values)
            )
            if result.rowcount == 0:
                await connection.execute(insert(bot_references).values(key=key, **values))

    async def get(self, key: str) -> tuple[dict[str, Any], str | None] | None:
        row = await self._one(select(bot_references).where(bot_references.c.key == key))
        return (row["reference"], row["conversation_id"]) if row else None

    async def for_conversation(self, conversation_id: str) -> dict[str, Any] | None:
        row = await self._one(
            select(bot_references).where(bot_references.c.conversation_id == conversation_id)
        )
        return row["reference"] if row else None

    # -- the outbox: one replica at a time delivers a conversation's replies, in order ---------
    async def claim_delivery(
        self, conversation_id: str, owner: str, until: datetime, *, now: datetime
    ) -> int | None:
        """Hold the conversation's outbox for ``owner`` until ``until`` (a renewal when it holds
        it already) and return the id of the last message delivered; None while another
        replica's lease lasts, or when the conversation has no reference."""
        mine = bot_references.c.conversation_id == conversation_id
        async with self.store.transaction() as connection:
            result = await connection.execute(
                update(bot_references)
                .where(
                    mine,
                    or_(
                        bot_references.c.delivery_until.is_(None),
                        bot_references.c.delivery_until < now,
                        bot_references.c.delivery_owner == owner,
                    ),
                )
                .values(delivery_owner=owner, delivery_until=until)
            )
            if not result.rowcount:
                return None
            row = (
                await connection.execute(
                    select(bot_references.c.delivered_through).where(mine).limit(1)
                )
            ).first()
        return int(row[0]) if row else None

    async def delivered(self, conversation_id: str, owner: str, message_id: int) -> bool:
        """Record that the replies up to ``message_id`` are delivered; False when ``owner`` no
        longer holds the outbox (its lease ended and another replica took it), or the outbox
        is past ``message_id`` already."""
        async with self.store.transaction() as connection:
            result = await connection.execute(
                update(bot_references)
                .where(
                    bot_references.c.conversation_id == conversation_id,
                    bot_references.c.delivery_owner == owner,
                    bot_references.c.delivered_through < message_id,  # never backwards
                )
                .values(delivered_through=message_id)
            )
        return bool(result.rowcount)

    async def release_delivery(self, conversation_id: str, owner: str) -> None:
        """Give up ``owner``'s hold on the outbox (if it still has it)."""
        async with self.store.transaction() as connection:
            await connection.execute(
                update(bot_references)
                .where(
                    bot_references.c.conversation_id == conversation_id,
                    bot_references.c.delivery_owner == owner,
                )
                .values(delivery_owner=None, delivery_until=None)
            )

    async def undelivered(
        self,
        kinds: Collection[str],
        *,
        now: datetime,
        conversation_id: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[str]:
        """Conversations with a reply of one of ``kinds`` (stored ``since`` then, if given) not
        yet delivered and an outbox no replica holds (a replica died, or gave up after its
        retries), oldest first."""
        pending = exists().where(
            messages.c.conversation_id == bot_references.c.conversation_id,
            messages.c.id > bot_references.c.delivered_through,
            messages.c.kind.in_(list(kinds)),
            *([messages.c.created_at >= since] if since is not None else []),
        )
        query = (
            select(bot_references.c.conversation_id)
            .where(
                bot_references.c.conversation_id.is_not(None),
                pending,
                or_(
                    bot_references.c.delivery_until.is_(None),
                    bot_references.c.delivery_until < now,
                ),
            )
            .order_by(bot_references.c.delivered_through)
            .limit(limit)
        )
        if conversation_id is not None:
            query = query.where(bot_references.c.conversation_id == conversation_id)
        async with self.store.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [str(row[0]) for row in rows]

    async def _one(self, query: Any) -> dict[str, Any] | None:
        async with self.store.reading() as connection:
            row = (await connection.execute(query)).mappings().first()
        return dict(row) if row else None

"""The recovery sweep: a live replica answers a message a dead replica held, without a
restart (issue 12 item 10)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.engine import utcnow
from config import ServerSettings
from knowledge.base import KnowledgeBase
from tests.conftest import eventually, running, settings_for


async def test_a_dead_replicas_message_is_answered_by_the_sweep(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    settings = settings_for(tmp_path)
    settings = settings.model_copy(
        update={"server": ServerSettings(recovery_sweep_seconds=0.2, message_lease_seconds=3)}
    )
    async with running(settings, sample_kb) as (_, services):
        conversation, _ = await services.engine.start("web")
        message = await services.store.add_customer_message(
            conversation.id, "How do I return an item?"
        )
        now = utcnow()
        ends = now + timedelta(seconds=1)
        assert await services.store.claim_message(message.id, "dead-replica", ends, now=now)

        async def answered() -> bool:
            return [m.kind.value for m in await services.store.messages(conversation.id)] == [
                "customer",
                "answer",
            ]

        await eventually(answered, "the sweep to answer the dead replica's message", timeout=15)
        assert utcnow() >= ends, "not before the dead replica's lease ended"

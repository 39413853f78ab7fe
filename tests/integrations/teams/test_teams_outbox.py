"""The outbox of replies to Bot Framework customers: a reply is delivered even when its retries
run out or the replica sending it dies, once, and one conversation's replies keep their order
across replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.conversation import Kind
from bot.engine import utcnow
from bot.ports import Change, NewMessage
from config import ServerSettings, Settings
from integrations.storage.references import ReferenceStore
from integrations.teams import channel as teams_channel
from integrations.web.app import TEAMS
from knowledge.base import KnowledgeBase
from tests.conftest import eventually, running
from tests.fakes.bot_connector import FakeConnector
from tests.integrations.teams.conftest import CUSTOMER, BotSide, teams_settings
from tests.integrations.teams.test_teams_delivery import HUMAN, customer_says, install, texts

CUSTOMER_KEY = f"customer:webchat:{CUSTOMER}"
REFUNDS = "How long do refunds take?"


def sweeping_every(tmp_path: Path, seconds: float) -> Settings:
    return teams_settings(tmp_path).model_copy(
        update={"server": ServerSettings(recovery_sweep_seconds=seconds)}
    )


@asynccontextmanager
async def replicas(
    tmp_path: Path, knowledge_base: KnowledgeBase, count: int, sweep: float = 0.2
) -> AsyncIterator[list[BotSide]]:
    """``count`` replicas of the service on one database, against one fake Bot Connector,
    each sweeping its outbox every ``sweep`` seconds (and at start)."""
    settings = sweeping_every(tmp_path, sweep)
    async with AsyncExitStack() as stack:
        connector = await stack.enter_async_context(FakeConnector())
        sides = []
        for _ in range(count):
            server, services = await stack.enter_async_context(running(settings, knowledge_base))
            sides.append(BotSide(server, connector, services))
        yield sides


@pytest_asyncio.fixture()
async def bot(tmp_path: Path, sample_kb: KnowledgeBase) -> AsyncIterator[BotSide]:
    """Here, one replica installed in the agent team and sweeping its outbox every 0.2 s."""
    async with replicas(tmp_path, sample_kb, 1) as [side]:
        await install(side)
        yield side


async def test_a_reply_whose_retries_run_out_is_sent_again_by_the_sweep_in_order(
    bot: BotSide, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = bot.connector
    # Each failure asks for a second's wait, past the retry budget: every attempt gives up.
    monkeypatch.setattr(teams_channel, "CUSTOMER_RETRY_SECONDS", 0.2)
    connector.fail_next(CUSTOMER, status=503, retry_after=1, times=4)
    await customer_says(bot, REFUNDS)
    await customer_says(bot, HUMAN, id="m2")

    await connector.until(lambda: len(connector.delivered(CUSTOMER)) >= 2, timeout=20)
    attempts = connector.to(CUSTOMER)
    assert [a.status for a in attempts][:5] == [503, 503, 503, 503, 200]
    assert len({a.activity["text"] for a in attempts[:5]}) == 1, "the same reply each time"
    delivered = texts(connector.delivered(CUSTOMER))
    assert len(delivered) == 2, delivered
    assert "3 working days" in delivered[0], "the first reply first, though it failed"
    assert "person from our team" in delivered[1]


async def held_by_a_dead_replica(bot: BotSide, ends: datetime) -> str:
    """Leave the customer conversation's outbox held until ``ends`` by a replica that died
    while delivering (once the live replica has let go of it); returns the conversation."""
    references = ReferenceStore(bot.services.store)
    known = await references.get(CUSTOMER_KEY)
    assert known is not None
    conversation_id = known[1]
    assert conversation_id is not None

    async def taken() -> bool:
        held = await references.claim_delivery(conversation_id, "dead", ends, now=utcnow())
        return held is not None

    await eventually(taken, "the outbox to be free")
    return conversation_id


async def test_a_dead_replicas_replies_are_delivered_once_its_hold_ends(bot: BotSide) -> None:
    connector = bot.connector
    await customer_says(bot, REFUNDS)
    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 1)
    ends = utcnow() + timedelta(seconds=1.5)
    await held_by_a_dead_replica(bot, ends)

    await customer_says(bot, HUMAN, id="m2")
    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 2, timeout=15)
    assert utcnow() >= ends, "not while the dead replica's hold lasted"
    delivered = texts(connector.delivered(CUSTOMER))
    assert "person from our team" in delivered[1]
    assert len(connector.to(CUSTOMER)) == 2, "each reply sent once"


async def test_a_reply_the_previous_version_sent_is_not_sent_again(bot: BotSide) -> None:
    connector, store = bot.connector, bot.services.store
    await customer_says(bot, REFUNDS)
    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 1)
    conversation_id = await held_by_a_dead_replica(bot, utcnow() + timedelta(seconds=1.5))
    await customer_says(bot, HUMAN, id="m2")

    async def escalated() -> bool:
        return any(m.kind.value == "escalated" for m in await store.messages(conversation_id))

    await eventually(escalated, "the escalation notice to be stored")
    notice = [m for m in await store.messages(conversation_id) if m.kind.value == "escalated"]
    # During a rolling upgrade, a replica of the previous version claimed it and sent it.
    assert await store.claim(f"teams:out:{notice[0].id}")
    await customer_says(bot, "How do I return an item?", id="m3")

    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 2, timeout=15)
    sent = texts(connector.to(CUSTOMER))
    assert not any("person from our team" in t for t in sent), sent


async def test_replies_stored_by_two_replicas_reach_the_customer_in_order(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    # No sweep after the one at start: only the replicas' own delivery can keep the order.
    async with replicas(tmp_path, sample_kb, 2, sweep=3600) as [first, second]:
        await install(first)
        connector = first.connector
        # The first replica's reply fails once and waits a second before its retry ...
        connector.fail_next(CUSTOMER, status=503, retry_after=1)
        await customer_says(first, REFUNDS)
        await connector.until(lambda: len(connector.to(CUSTOMER)) == 1)
        # ... while the second replica answers the customer's next message.
        await customer_says(second, HUMAN, id="m2")

        await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 2, timeout=15)
        delivered = texts(connector.delivered(CUSTOMER))
        assert "3 working days" in delivered[0], "the earlier reply first"
        assert "person from our team" in delivered[1]
        assert [a.status for a in connector.to(CUSTOMER)] == [503, 200, 200], "each once"


async def test_a_reply_refused_for_good_is_skipped_and_the_next_one_delivered(
    bot: BotSide, caplog: pytest.LogCaptureFixture
) -> None:
    connector = bot.connector
    connector.fail_next(CUSTOMER, status=403)
    await customer_says(bot, REFUNDS)
    await connector.until(lambda: len(connector.to(CUSTOMER)) == 1)
    await customer_says(bot, HUMAN, id="m2")

    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 1)
    assert [a.status for a in connector.to(CUSTOMER)] == [403, 200], "not retried"
    assert "person from our team" in texts(connector.delivered(CUSTOMER))[0]
    assert "refused a reply" in caplog.text


async def test_a_reply_stored_while_another_replica_holds_the_outbox_is_not_left_behind(
    tmp_path: Path, sample_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrow case: the second replica stores a reply and finds the outbox held just as the
    first is letting go of it, having sent all it had read. Only the first replica's second
    look can send it: no periodic sweep runs."""
    async with replicas(tmp_path, sample_kb, 2, sweep=3600) as [first, second]:
        await install(first)
        connector = first.connector
        holding, refused = first.server.app[TEAMS].references, asyncio.Event()
        claim = second.server.app[TEAMS].references.claim_delivery
        release = holding.release_delivery

        async def claim_and_note(*args: Any, **kwargs: Any) -> int | None:
            held = await claim(*args, **kwargs)
            if held is None:
                refused.set()
            return held

        async def release_once_the_other_replica_was_refused(*args: Any) -> None:
            monkeypatch.setattr(holding, "release_delivery", release)
            await customer_says(second, HUMAN, id="m2")
            await asyncio.wait_for(refused.wait(), 15)
            await release(*args)

        monkeypatch.setattr(second.server.app[TEAMS].references, "claim_delivery", claim_and_note)
        monkeypatch.setattr(holding, "release_delivery", release_once_the_other_replica_was_refused)
        await customer_says(first, REFUNDS)

        await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 2, timeout=15)
        delivered = texts(connector.delivered(CUSTOMER))
        assert "3 working days" in delivered[0]
        assert "person from our team" in delivered[1]


async def test_a_reply_after_more_than_a_page_of_other_messages_is_delivered(bot: BotSide) -> None:
    connector, store = bot.connector, bot.services.store
    await customer_says(bot, REFUNDS)
    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 1)
    conversation_id = await held_by_a_dead_replica(bot, utcnow() + timedelta(seconds=1))
    conversation = await store.conversation(conversation_id)
    assert conversation is not None
    # A customer writing on and on (an agent holding the conversation, say), then one reply.
    said = tuple(NewMessage(Kind.CUSTOMER, f"message {n}") for n in range(520))
    await store.apply(
        Change(
            conversation, messages=(*said, NewMessage(Kind.AGENT_MESSAGE, "On it.", author="Sam"))
        )
    )

    await connector.until(lambda: len(connector.delivered(CUSTOMER)) == 2, timeout=15)
    assert texts(connector.delivered(CUSTOMER))[1].endswith("On it.")

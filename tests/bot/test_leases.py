"""Each customer message is handled exactly once across replicas, and none is left behind:
two engines on one SQLite store play two replicas (issue 12 items 9, 10, 11)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bot import turns
from bot.engine import ConversationEngine, utcnow
from bot.engine_base import MAX_RETRIES
from bot.ports import Applied, Change
from integrations.composition import Services

QUESTION = "How long do refunds take?"


def replica(services: Services, clock: Callable[[], datetime] = utcnow) -> ConversationEngine:
    """Another replica on the same store (its own owner id, locks and clock)."""
    engine = services.engine
    return ConversationEngine(
        store=engine.store,
        responder=engine.responder,
        drafter=engine.drafter,
        bus=engine.bus,
        config=engine.config,
        clock=clock,
    )


def later(seconds: float) -> Callable[[], datetime]:
    return lambda: utcnow() + timedelta(seconds=seconds)


async def replies(services: Services, conversation_id: str) -> list[str]:
    return [m.kind.value for m in await services.store.messages(conversation_id)][1:]


async def test_two_replicas_handling_one_message_answer_it_once(services: Services) -> None:
    a, b = services.engine, replica(services)
    conversation, _ = await a.start("web")
    message = await a.receive(conversation.id, QUESTION)
    handled = await asyncio.gather(a.handle(message), b.handle(message), a.handle(message))
    assert sorted(handled) == [False, False, True]
    assert await replies(services, conversation.id) == ["answer"]
    assert not await a.handle(message), "a handled message is never handled again"
    assert await replies(services, conversation.id) == ["answer"]


async def test_a_starting_replica_leaves_a_live_replicas_message_to_it(
    services: Services,
) -> None:
    a = services.engine
    conversation, _ = await a.start("web")
    message = await a.receive(conversation.id, QUESTION)
    now = utcnow()
    assert await services.store.claim_message(
        message.id, a.owner, now + timedelta(seconds=30), now=now
    )
    starting = replica(services, later(10))  # past the grace, within A's lease
    assert await starting.recover() == 0
    assert await replies(services, conversation.id) == []
    assert await a.handle(message)
    assert await replies(services, conversation.id) == ["answer"]


async def test_a_turn_that_outlived_its_lease_does_not_answer_twice(services: Services) -> None:
    """B sees A's lease as ended (A is slow, or its clock is behind) and both run the turn: the
    change that handles the message applies once."""
    a, b = services.engine, replica(services, later(a_lease := 31))
    assert a.config.lease_seconds < a_lease
    conversation, _ = await a.start("web")
    message = await a.receive(conversation.id, QUESTION)
    handled = await asyncio.gather(a.handle(message), b.handle(message))
    assert sorted(handled) == [False, True]
    assert await replies(services, conversation.id) == ["answer"]


async def test_a_dead_replicas_message_is_answered_by_a_live_replicas_sweep(
    services: Services,
) -> None:
    conversation, _ = await services.engine.start("web")
    now = utcnow()
    dead = "dead-replica"  # it received the message (leased to it) and died
    await services.store.add_customer_message(
        conversation.id, QUESTION, (dead, now + timedelta(seconds=30))
    )
    assert await replica(services).recover() == 0, "its lease is live: left alone"
    assert await replica(services, later(31)).recover() == 1, "its lease ended"
    assert await replies(services, conversation.id) == ["answer"]


@pytest.fixture()
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns, "BACKOFF_BASE_S", 0.001)
    monkeypatch.setattr(turns, "BACKOFF_CAP_S", 0.005)


def agent_keeps_acting(
    services: Services, monkeypatch: pytest.MonkeyPatch, times: int
) -> list[int]:
    """Before each of the next ``times`` changes that handle a message, someone else changes
    the conversation (an agent acting), so that the change conflicts. Returns a counter."""
    store = services.store
    apply = store.apply
    conflicts = [0]

    async def racing(change: Change) -> Applied:
        if change.handled is not None and conflicts[0] < times:
            conflicts[0] += 1
            current = await store.conversation(change.conversation.id)
            assert current is not None
            await apply(Change(current))
        return await apply(change)

    monkeypatch.setattr(store, "apply", racing)
    return conflicts


async def test_more_conflicts_than_max_retries_still_answer(
    services: Services, monkeypatch: pytest.MonkeyPatch, quick_backoff: None
) -> None:
    conversation, _ = await services.engine.start("web")
    message = await services.engine.receive(conversation.id, QUESTION)
    conflicts = agent_keeps_acting(services, monkeypatch, MAX_RETRIES + 3)
    assert await services.engine.handle(message)
    assert conflicts[0] == MAX_RETRIES + 3
    assert await replies(services, conversation.id) == ["answer"]


async def test_a_message_that_keeps_conflicting_is_released_to_the_sweep(
    services: Services, monkeypatch: pytest.MonkeyPatch, quick_backoff: None
) -> None:
    conversation, _ = await services.engine.start("web")
    message = await services.engine.receive(conversation.id, QUESTION)
    agent_keeps_acting(services, monkeypatch, turns.HANDLE_ATTEMPTS)
    assert not await services.engine.handle(message), "it gave up for now..."
    assert await replies(services, conversation.id) == []
    assert [m.id for m in await services.store.unhandled_messages()] == [message.id]
    now = utcnow()
    assert await services.store.claimable_messages(now, now + timedelta(seconds=1)), "released"
    assert await replica(services, later(10)).recover() == 1, "...and the sweep answers it"
    assert await replies(services, conversation.id) == ["answer"]


async def test_a_message_whose_turn_fails_waits_for_its_lease_to_end(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn that raises (a bug) keeps its lease: the sweep retries it when the lease ends,
    not in a hot loop."""
    conversation, _ = await services.engine.start("web")
    message = await services.engine.receive(conversation.id, QUESTION)
    engine = services.engine
    original = engine._handle_once

    async def broken(_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "_handle_once", broken)
    with pytest.raises(RuntimeError):
        await engine.handle(message)
    assert await replica(services, later(10)).recover() == 0, "leased: not retried yet"
    monkeypatch.setattr(engine, "_handle_once", original)
    assert await replica(services, later(31)).recover() == 1
    assert await replies(services, conversation.id) == ["answer"]


async def test_renewal_keeps_a_slow_turn_leased(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = services.engine
    engine.config = replace(engine.config, lease_seconds=0.3)
    conversation, _ = await engine.start("web")
    message = await engine.receive(conversation.id, QUESTION)
    original = engine._handle_once
    other = replica(services)

    async def slow(m: object) -> None:
        await asyncio.sleep(0.6)  # twice the lease
        assert await other.recover() == 0, "renewed: another replica leaves it alone"
        await original(message)

    monkeypatch.setattr(engine, "_handle_once", slow)
    assert await engine.handle(message)
    assert await replies(services, conversation.id) == ["answer"]


async def test_a_received_message_is_stored_leased_to_the_receiving_replica(
    services: Services,
) -> None:
    """``receive`` stores the message already claimed (one write): another replica cannot take
    it during the grace, and the receiving replica handles it without claiming again."""
    engine = services.engine
    conversation, _ = await engine.start("web")
    message = await engine.receive(conversation.id, QUESTION)
    now = utcnow()
    other = now + timedelta(seconds=30)
    assert not await services.store.claim_message(message.id, "other", other, now=now)
    assert await replica(services).recover() == 0, "within the grace: left to the receiver"
    assert await engine.handle(message)
    assert await replies(services, conversation.id) == ["answer"]

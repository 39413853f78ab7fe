"""Two ``tandem serve`` processes on one Postgres: when one dies holding acknowledged messages,
the other answers each of them exactly once, without a restart (issue 12 items 9, 10)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio

from tests.backing_services import fresh_postgres
from tests.e2e.processes import open_and_send, serving, serving_process, tandem_env

QUESTIONS = ["How long do refunds take?", "How do I return an item?", "I want a person"]
REPLIES = {"answer", "escalated"}


@pytest_asyncio.fixture()
async def database() -> AsyncIterator[str]:
    async with fresh_postgres("tandem_failover") as url:
        yield url


async def replies(session: aiohttp.ClientSession, url: str, sent: tuple[str, str]) -> int:
    conversation, token = sent
    async with session.get(
        f"{url}/api/conversations/{conversation}/messages",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        return sum(m["type"] in REPLIES for m in (await response.json())["messages"])


async def test_a_killed_replicas_messages_are_answered_once_by_the_other(
    database: str, tmp_path: Path
) -> None:
    env = tandem_env(
        tmp_path / "data",
        TANDEM_STORAGE__URL=database,
        TANDEM_SERVER__MESSAGE_LEASE_SECONDS="3",
        TANDEM_SERVER__RECOVERY_SWEEP_SECONDS="0.5",
        TANDEM_SERVER__CONVERSATIONS_PER_ADDRESS_PER_MINUTE="1000",
        TANDEM_SERVER__MESSAGES_PER_ADDRESS_PER_MINUTE="1000",
    )
    with serving_process(env, tmp_path / "a.log") as (replica_a, process_a):
        with serving(env, tmp_path / "b.log") as replica_b:
            async with aiohttp.ClientSession() as session:
                sent = await asyncio.gather(
                    *(open_and_send(session, replica_a, QUESTIONS[n % 3]) for n in range(24))
                )
                process_a.send_signal(signal.SIGKILL)  # right after the last acknowledgement
                process_a.wait()
                deadline = asyncio.get_running_loop().time() + 60
                while True:
                    counts = [await replies(session, replica_b, s) for s in sent]
                    if all(counts) or asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.5)
                await asyncio.sleep(2)  # a duplicate would come from a replica still at work
                counts = [await replies(session, replica_b, s) for s in sent]
    assert counts == [1] * len(sent), "every acknowledged message answered exactly once"

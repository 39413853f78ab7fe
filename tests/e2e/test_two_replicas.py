"""Two ``tandem serve`` processes on one Postgres and one Redis: an agent action taken on one
replica reaches a customer connected to the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest_asyncio

from tests.backing_services import fresh_postgres, require
from tests.e2e.processes import open_and_send, run_cli, serving, tandem_env


@pytest_asyncio.fixture()
async def database() -> AsyncIterator[str]:
    require("redis")
    async with fresh_postgres("tandem_replicas") as url:
        yield url


async def next_of(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, object]:
    while True:
        event = await asyncio.wait_for(socket.receive_json(), 20)
        if event["type"] == kind:
            return event  # type: ignore[no-any-return]


async def test_an_action_on_one_replica_reaches_a_customer_on_the_other(
    database: str, tmp_path: Path
) -> None:
    env = tandem_env(
        tmp_path / "data",
        TANDEM_STORAGE__URL=database,
        TANDEM_STORAGE__REDIS_URL="redis://127.0.0.1:6379/0",
        TANDEM_AGENT_PASSWORD="secret-pass",
    )
    run_cli(env, "agents", "add", "alice", "--name", "Alice")
    with (
        serving(env, tmp_path / "a.log") as replica_a,
        serving(env, tmp_path / "b.log") as replica_b,
    ):
        jar = aiohttp.CookieJar(unsafe=True)
        async with (
            aiohttp.ClientSession() as customer,
            aiohttp.ClientSession(cookie_jar=jar) as agent,
        ):
            async with customer.post(f"{replica_b}/api/conversations") as response:
                conversation = await response.json()
            auth = {"Authorization": f"Bearer {conversation['token']}"}
            socket = await customer.ws_connect(
                f"{replica_b}/api/conversations/{conversation['id']}/ws?token={conversation['token']}"
            )
            async with customer.post(
                f"{replica_a}/api/conversations/{conversation['id']}/messages",
                json={"text": "I want to talk to a human"},
                headers=auth,
            ) as response:
                assert response.status == 202
            assert (await next_of(socket, "escalated"))["text"], "handled on A, seen on B"

            async with agent.post(
                f"{replica_a}/api/desk/login", json={"username": "alice", "password": "secret-pass"}
            ) as r:
                assert r.status == 200
            async with agent.get(f"{replica_a}/api/desk/escalations") as r:
                [item] = (await r.json())["escalations"]
            async with agent.post(
                f"{replica_a}/api/desk/escalations/{item['id']}/actions",
                json={"action": "send", "text": "Hello from replica A"},
            ) as r:
                assert (await r.json())["outcome"] == "done"
            reply = await next_of(socket, "agent_message")
            assert reply["text"] == "Hello from replica A"
            await socket.close()


OUT_OF_SCOPE = (
    "what is the capital of France",
    "how tall is mount everest",
    "who won the world cup in 2018",
    "recommend a good podcast about history",
)


async def metric(session: aiohttp.ClientSession, replica: str, name: str) -> float:
    async with session.get(f"{replica}/metrics") as response:
        text = await response.text()
    [line] = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


async def until(probe: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, "not within the time"
        await asyncio.sleep(0.2)


async def test_replicas_read_one_traffic_window_and_a_new_one_starts_with_it(
    database: str, tmp_path: Path
) -> None:
    """Questions the knowledge base does not cover, asked of replica A until their share raises
    A's threshold: replica B, started afterwards, answers at the same raised threshold from its
    first request (the window is in the database, not in A), and B reads the questions A is
    asked later."""
    window = "tandem_traffic_window_questions"
    env = tandem_env(
        tmp_path / "data",
        TANDEM_STORAGE__URL=database,
        TANDEM_STORAGE__REDIS_URL="redis://127.0.0.1:6379/0",
        TANDEM_KNOWLEDGE__TRAFFIC_MIN_QUESTIONS="50",
        TANDEM_LEARNING__LIVE_REFRESH_SECONDS="1",
        TANDEM_SERVER__CONVERSATIONS_PER_ADDRESS_PER_MINUTE="1000",
    )
    with serving(env, tmp_path / "a.log") as replica_a:
        async with aiohttp.ClientSession() as session:
            calibrated = await metric(session, replica_a, "tandem_answer_threshold")
            for n in range(75):
                await open_and_send(session, replica_a, OUT_OF_SCOPE[n % len(OUT_OF_SCOPE)])

            async def a_noted_all() -> bool:
                return await metric(session, replica_a, window) == 75

            await until(a_noted_all)
            raised = await metric(session, replica_a, "tandem_answer_threshold")
            assert raised > calibrated
            with serving(env, tmp_path / "b.log") as replica_b:
                assert await metric(session, replica_b, window) == 75
                assert await metric(session, replica_b, "tandem_answer_threshold") == raised
                for n in range(5):
                    await open_and_send(session, replica_a, OUT_OF_SCOPE[n % len(OUT_OF_SCOPE)])

                async def b_read_them() -> bool:
                    return await metric(session, replica_b, window) == 80

                await until(b_read_them)

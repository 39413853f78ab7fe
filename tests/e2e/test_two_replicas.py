"""Two ``tandem serve`` processes on one Postgres and one Redis: an agent action taken on one
replica reaches a customer connected to the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio

from tests.backing_services import fresh_postgres, require
from tests.e2e.processes import run_cli, serving, tandem_env


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

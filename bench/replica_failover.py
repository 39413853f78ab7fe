"""Replica failover benchmark: two ``tandem serve`` replicas on one fresh Postgres database.

Usage: python bench/replica_failover.py [--messages 40] [--timeout 90] [--lease 30] [--sweep 10]
       [--burst 4] [--no-kill]

Two phases, each customer sending one message in a conversation of its own:

1. start: replica A takes a steady stream of messages (``--burst`` every 0.5 s) while replica
   B starts (B's start-up recovery runs during the load), and the stream goes on for a few
   seconds after B is up;
2. kill: ``--messages`` messages are posted to A at once and A is killed (SIGKILL) as soon as
   the last is acknowledged (202); B alone is left to answer what A did not.

For each phase it prints how many messages were acknowledged, answered (exactly one bot reply:
an answer or an escalation notice), duplicated (more than one) and lost (none by the timeout),
and, for the kill, how many were still unanswered when A died and how long after the kill the
last answer came. Needs Postgres on 127.0.0.1:5432 (user ``postgres``); the database it creates
is dropped at the end. Bounded: ``--timeout`` seconds of waiting per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import (  # noqa: E402
    QUESTIONS,
    REPLIES,
    Replica,
    fresh_database,
    healthy,
    server_env,
    start,
    stop,
    until_healthy,
)

START_CAP = 300  # messages in the start phase at most


@dataclass
class Sent:
    conversation: str
    token: str


async def send(session: aiohttp.ClientSession, url: str, text: str) -> Sent:
    async with session.post(f"{url}/api/conversations") as response:
        assert response.status == 201, await response.text()
        opened = await response.json()
    auth = {"Authorization": f"Bearer {opened['token']}"}
    async with session.post(
        f"{url}/api/conversations/{opened['id']}/messages", json={"text": text}, headers=auth
    ) as response:
        assert response.status == 202, await response.text()
    return Sent(opened["id"], opened["token"])


async def replies(session: aiohttp.ClientSession, url: str, sent: Sent) -> int:
    auth = {"Authorization": f"Bearer {sent.token}"}
    async with session.get(
        f"{url}/api/conversations/{sent.conversation}/messages", headers=auth
    ) as response:
        messages = (await response.json())["messages"]
    return sum(m["type"] in REPLIES for m in messages)


async def counts(session: aiohttp.ClientSession, url: str, sent: list[Sent]) -> list[int]:
    return list(await asyncio.gather(*(replies(session, url, s) for s in sent)))


async def settle(
    session: aiohttp.ClientSession, url: str, sent: list[Sent], timeout: float
) -> tuple[list[int], float]:
    """Poll until every message has a reply (then a little longer, to catch late duplicates)
    or ``timeout``; the reply counts and when the last first reply came (monotonic)."""
    began = time.monotonic()
    last = began
    while True:
        now = await counts(session, url, sent)
        if all(now):
            last = time.monotonic()
            break
        if time.monotonic() - began > timeout:
            break
        await asyncio.sleep(0.25)
    await asyncio.sleep(3)  # a duplicate would come from a replica still working
    return await counts(session, url, sent), last


def tally(name: str, reply_counts: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "phase": name,
        "acknowledged": len(reply_counts),
        "answered_once": sum(c == 1 for c in reply_counts),
        "duplicated": sum(c > 1 for c in reply_counts),
        "duplicate_replies": sum(max(c - 1, 0) for c in reply_counts),
        "lost": sum(c == 0 for c in reply_counts),
        **extra,
    }


async def start_phase(
    env: dict[str, str], logs: Path, timeout: float, burst: int
) -> tuple[Replica, Replica, dict[str, Any]]:
    a = start(env, logs / "a.log")
    await until_healthy(a)
    sent: list[Sent] = []
    questions = itertools.cycle(QUESTIONS)
    async with aiohttp.ClientSession() as session:
        b = start(env, logs / "b.log")
        b_up: float | None = None
        while (b_up is None or time.monotonic() - b_up < 3) and len(sent) < START_CAP:
            sent.extend(
                await asyncio.gather(*(send(session, a.url, next(questions)) for _ in range(burst)))
            )
            await asyncio.sleep(0.5)
            if b_up is None and healthy(b):
                b_up = time.monotonic()
        reply_counts, _ = await settle(session, a.url, sent, timeout)
    return a, b, tally("start", reply_counts)


async def kill_phase(a: Replica, b: Replica, messages: int, timeout: float) -> dict[str, Any]:
    questions = itertools.cycle(QUESTIONS)
    async with aiohttp.ClientSession() as session:
        sent = list(
            await asyncio.gather(*(send(session, a.url, next(questions)) for _ in range(messages)))
        )
        a.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        a.process.wait()
        before = await counts(session, b.url, sent)
        reply_counts, last = await settle(session, b.url, sent, timeout)
    return tally(
        "kill",
        reply_counts,
        unanswered_at_kill=sum(c == 0 for c in before),
        last_answer_after_kill_s=round(last - killed, 1),
    )


async def phases(env: dict[str, str], logs: Path, args: argparse.Namespace) -> None:
    a = b = None
    try:
        a, b, started = await start_phase(env, logs, args.timeout, args.burst)
        print(json.dumps(started))
        if not args.no_kill:
            print(json.dumps(await kill_phase(a, b, args.messages, args.timeout)))
    finally:
        stop([a, b])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=40, help="posted just before the kill")
    parser.add_argument("--timeout", type=float, default=90.0, help="waiting per phase, seconds")
    parser.add_argument("--lease", type=float, default=30.0, help="message lease, seconds")
    parser.add_argument("--sweep", type=float, default=10.0, help="recovery sweep, seconds")
    parser.add_argument(
        "--burst", type=int, default=4, help="start phase: messages posted every 0.5 s"
    )
    parser.add_argument("--no-kill", action="store_true", help="the start phase only")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="tandem-failover-") as temp,
        fresh_database("tandem_failover") as database,
    ):
        logs = Path(temp)
        env = server_env(
            logs / "data",
            {
                "TANDEM_STORAGE__URL": database,
                "TANDEM_SERVER__MESSAGE_LEASE_SECONDS": str(args.lease),
                "TANDEM_SERVER__RECOVERY_SWEEP_SECONDS": str(args.sweep),
            },
        )
        asyncio.run(phases(env, logs, args))


if __name__ == "__main__":
    main()

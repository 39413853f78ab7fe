"""Idle WebSockets' memory: what 1,000 connected, silent customers cost the server, and whether
it gets the memory back when they leave (issue 13: at most 30 MB, given back).

Usage: python bench/sockets.py [--sockets 1000] [--settle 5] [--rounds 2] [--later 65]
       [--server-env KEY=VALUE]

Starts ``tandem serve`` (this checkout's code) on the embedded default in a temporary
directory, warms it up (a few conversations with a socket each, then closed), and reads the
server's resident memory (``VmRSS``) and open file descriptors:

1. ``idle``: warmed up, nothing connected;
2. ``conversations``: ``--sockets`` conversations opened (stored), none connected;
3. ``open``: each of those conversations' customer WebSocket connected and idle;
4. ``closed``: every socket closed by its client;
5. with ``--rounds N``, steps 3 and 4 again on the same conversations (``open2``, ``closed2``,
   …): whether memory kept after a close is reused by the next sockets or grows;
6. ``later`` (with ``--later S``): ``S`` seconds after that (the server trims every minute).

Each figure is read ``--settle`` seconds after its step. Prints the figures and the deltas
against ``conversations`` (``sockets_add_mb`` = open − conversations, ``kept_after_close_mb`` =
closed − conversations, and the same per round).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import key_values, replicas, rss_mb, server_env  # noqa: E402

WARM_UP = 20
OPENING = 50  # conversations opened, sockets connected, at once


def raise_file_limit(needed: int) -> None:
    """Enough descriptors for the client's sockets (and the server's, which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        top = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def open_conversations(
    session: aiohttp.ClientSession, url: str, count: int
) -> list[dict[str, str]]:
    gate = asyncio.Semaphore(OPENING)

    async def one() -> dict[str, str]:
        async with gate, session.post(f"{url}/api/conversations", json={}) as response:
            assert response.status == 201, await response.text()
            return dict(await response.json())

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def connect(
    session: aiohttp.ClientSession, url: str, conversations: list[dict[str, str]]
) -> list[aiohttp.ClientWebSocketResponse]:
    gate = asyncio.Semaphore(OPENING)

    async def one(conversation: dict[str, str]) -> aiohttp.ClientWebSocketResponse:
        async with gate:
            return await session.ws_connect(
                f"{url}/api/conversations/{conversation['id']}/ws?token={conversation['token']}",
                autoping=True,
            )

    return list(await asyncio.gather(*(one(c) for c in conversations)))


async def close(sockets: list[aiohttp.ClientWebSocketResponse]) -> None:
    await asyncio.gather(*(socket.close() for socket in sockets))


async def run(
    url: str, pid: int, count: int, settle: float, rounds: int, later: float
) -> dict[str, float]:
    def snapshot(name: str) -> float:
        figures[f"{name}_rss_mb"] = rss = round(rss_mb(pid, "VmRSS"), 1)
        figures[f"{name}_fds"] = open_files(pid)
        return rss

    figures: dict[str, float] = {"sockets": count}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = await open_conversations(session, url, WARM_UP)
        await close(await connect(session, url, warm))
        await asyncio.sleep(settle)
        idle = snapshot("idle")
        conversations = await open_conversations(session, url, count)
        await asyncio.sleep(settle)
        base = snapshot("conversations")
        figures["conversations_add_mb"] = round(base - idle, 1)
        for round_ in range(1, rounds + 1):
            suffix = "" if round_ == 1 else str(round_)
            started = time.perf_counter()
            sockets = await connect(session, url, conversations)
            figures[f"connect{suffix}_s"] = round(time.perf_counter() - started, 2)
            await asyncio.sleep(settle)
            opened = snapshot(f"open{suffix}")
            await close(sockets)
            await asyncio.sleep(settle)
            closed = snapshot(f"closed{suffix}")
            figures[f"sockets_add{suffix}_mb"] = round(opened - base, 1)
            figures[f"kept_after_close{suffix}_mb"] = round(closed - base, 1)
        if later:
            await asyncio.sleep(later)
            figures["kept_later_mb"] = round(snapshot("later") - base, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000, help="Idle customers (default 1000).")
    parser.add_argument("--settle", type=float, default=5.0, help="Seconds before each reading.")
    parser.add_argument(
        "--rounds", type=int, default=1, help="Connect and close the sockets this many times."
    )
    parser.add_argument(
        "--later", type=float, default=0, help="Read once more this many seconds after closed."
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        help="KEY=VALUE for the server only (e.g. PYTHONPATH=/old/checkout to bench a baseline).",
    )
    args = parser.parse_args()
    raise_file_limit(2 * args.sockets + 1024)  # the client's end and the server's
    figures: dict[str, float] = {"load_avg_1m": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(Path(tmp) / "data", key_values(args.server_env))
        with replicas(1, env) as (server,):
            figures.update(
                asyncio.run(
                    run(server.url, server.pid, args.sockets, args.settle, args.rounds, args.later)
                )
            )
    figures["load_avg_1m_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

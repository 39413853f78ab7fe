"""Load benchmark: many concurrent customer conversations over WebSockets on loopback.

Usage: python bench/load.py [--conversations 50] [--messages 5] [--distinct] [--url URL]
       [--replicas N] [--postgres | --database-url URL] [--redis-url URL]

Without ``--url`` it starts ``tandem serve`` (this checkout's code) on the embedded default
(SQLite, embedded Chroma, offline embeddings) in a temporary directory. Each simulated customer
opens a conversation, connects its WebSocket, and sends its questions one after another,
waiting for the bot's reply (an answer or an escalation notice) before the next. Prints
messages per second, reply latency p50/p95/p99 (from the POST to the reply on the socket), the
server's CPU milliseconds per message, its memory (peak and resident at start-up, peak and
idle after the run), the batched embedding rate of the same model measured in this process
just before (the yardstick: ``messages_per_s / embed_batched_per_s``) and the machine's load
average.

``--replicas N`` starts N servers on one database (``--postgres``: a fresh database on the
local Postgres, dropped at the end; or ``--database-url``) and one Redis (``--redis-url``).
The first starts alone and ingests the sample knowledge base into the shared data directory;
the others start once it is up. Customers are dealt to the replicas round robin (a
conversation's POSTs and WebSocket all go to its replica); CPU per message is the replicas'
sum, and memory figures are listed per replica.

``--profile FILE`` attaches ``py-spy record`` to the (first) server (``--format raw``:
collapsed stacks, sampled on every thread) during the measured run; ``bench/profile_parts.py
FILE`` splits it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import (  # noqa: E402
    QUESTIONS,
    REDIS_URL,
    REPLIES,
    cpu_seconds,
    fresh_database,
    key_values,
    replicas,
    rss_mb,
    server_env,
)


async def customer(
    session: aiohttp.ClientSession,
    url: str,
    index: int,
    messages: int,
    latencies: list[float],
    distinct: bool = False,
) -> None:
    async with session.post(f"{url}/api/conversations", json={}) as response:
        conversation = await response.json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    socket = await session.ws_connect(
        f"{url}/api/conversations/{conversation['id']}/ws?token={conversation['token']}"
    )
    try:
        for turn in range(messages):
            text = QUESTIONS[(index + turn) % len(QUESTIONS)]
            if distinct:  # no two texts alike: every one is embedded and read afresh
                text = f"{text} (ref {index}.{turn})"
            started = time.perf_counter()
            async with session.post(
                f"{url}/api/conversations/{conversation['id']}/messages",
                json={"text": text},
                headers=headers,
            ) as response:
                assert response.status == 202, await response.text()
            while True:
                event = await asyncio.wait_for(socket.receive_json(), 60)
                if event["type"] in REPLIES:
                    latencies.append(time.perf_counter() - started)
                    break
            if event["type"] == "escalated":
                break  # the bot stays silent from here on
    finally:
        await socket.close()


def embed_rate(batch: int = 32, seconds: float = 3.0) -> float:
    """Texts per second the shipped model embeds in batches, with the server's thread setting."""
    from config import EmbeddingsSettings
    from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings

    default = EmbeddingsSettings().threads
    threads = int(os.environ.get("TANDEM_EMBEDDINGS__THREADS", default))
    model = MiniLMOnnxEmbeddings(threads=threads)
    texts = [QUESTIONS[i % len(QUESTIONS)] + f" #{i}" for i in range(batch)]
    model.embed(texts)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.embed(texts)
        done += batch
    return done / (time.perf_counter() - started)


def record(pid: int, output: str) -> subprocess.Popen[bytes]:
    """Attach py-spy to the server; SIGINT stops it and writes ``output``."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--threads"]
    process = subprocess.Popen([*command, "--rate", "100", "--output", output])
    time.sleep(1)
    return process


async def run(
    urls: list[str], conversations: int, messages: int, distinct: bool = False
) -> dict[str, float]:
    """Customer ``i`` talks to ``urls[i % len(urls)]`` only."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                customer(session, urls[i % len(urls)], i, messages, latencies, distinct)
                for i in range(conversations)
            )
        )
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "conversations": conversations,
        "messages": len(latencies),
        "seconds": round(elapsed, 2),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
    }


def memory(pids: list[int], field: str) -> float | list[float]:
    """One server's figure, or a list with one per replica."""
    values = [round(rss_mb(pid, field), 1) for pid in pids]
    return values[0] if len(values) == 1 else values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5, help="Questions per conversation.")
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="Make every question's text unique (default: eight questions repeat, so their "
        "embeddings come from the cache after the first).",
    )
    parser.add_argument(
        "--url", action="append", help="A running Tandem (repeat for replicas); default: start."
    )
    parser.add_argument("--replicas", type=int, default=1, help="Servers to start (default 1).")
    database = parser.add_mutually_exclusive_group()
    database.add_argument(
        "--postgres", action="store_true", help="A fresh database on 127.0.0.1:5432."
    )
    database.add_argument("--database-url", help="e.g. postgresql+asyncpg://user@host/db")
    parser.add_argument(
        "--redis-url", help=f"The replicas' bus (default with --replicas > 1: {REDIS_URL})."
    )
    parser.add_argument("--profile", help="Record the (first) server with py-spy into this file.")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        help="KEY=VALUE for the server only (e.g. PYTHONPATH=/old/checkout to bench a baseline).",
    )
    parser.add_argument("--data-dir", type=Path, help="Keep the data here (a second run restarts).")
    parser.add_argument("--no-embed-rate", action="store_true", help="Skip the yardstick.")
    args = parser.parse_args()
    if args.replicas > 1 and not (args.postgres or args.database_url):
        parser.error("--replicas > 1 needs a shared database: --postgres or --database-url")
    figures: dict[str, object] = {"load_avg_1m": os.getloadavg()[0], "replicas": args.replicas}
    embed_per_s = None if args.no_embed_rate else round(embed_rate(), 1)
    if embed_per_s is not None:
        figures["embed_batched_per_s"] = embed_per_s
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        urls: list[str] = args.url or []
        pids: list[int] = []
        if not urls:
            settings: dict[str, str] = {}
            database_url = args.database_url or (
                stack.enter_context(fresh_database()) if args.postgres else None
            )
            if database_url:
                settings["TANDEM_STORAGE__URL"] = database_url
                figures["database"] = database_url.split("://", 1)[0]
            if args.redis_url or args.replicas > 1:
                settings["TANDEM_STORAGE__REDIS_URL"] = args.redis_url or REDIS_URL
            settings.update(key_values(args.server_env))
            env = server_env(args.data_dir or Path(tmp) / "data", settings)
            started = stack.enter_context(replicas(args.replicas, env))
            urls = [replica.url for replica in started]
            pids = [replica.pid for replica in started]
            figures["start_peak_rss_mb"] = memory(pids, "VmHWM")
            time.sleep(2)
            figures["start_idle_rss_mb"] = memory(pids, "VmRSS")
        asyncio.run(run(urls, max(5, len(urls)), 1))  # warm-up
        spy = record(pids[0], args.profile) if args.profile and pids else None
        cpu = sum(cpu_seconds(pid) for pid in pids)
        result = asyncio.run(run(urls, args.conversations, args.messages, args.distinct))
        figures.update(result)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        if pids:
            spent = sum(cpu_seconds(pid) for pid in pids) - cpu
            per_message = spent * 1000 / result["messages"]
            figures["server_cpu_ms_per_message"] = round(per_message, 1)
            figures["server_peak_rss_mb"] = memory(pids, "VmHWM")
            time.sleep(3)
            figures["server_idle_rss_mb"] = memory(pids, "VmRSS")
        if embed_per_s is not None:
            figures["ratio_to_embed_rate"] = round(result["messages_per_s"] / embed_per_s, 3)
        figures["load_avg_1m_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Load benchmark: many concurrent customer conversations over WebSockets on loopback.

Usage: python bench/load.py [--conversations 50] [--messages 5] [--url http://host:port]

Without ``--url`` it starts ``tandem serve`` on the embedded default (SQLite, embedded Chroma,
offline embeddings) in a temporary directory. Each simulated customer opens a conversation,
connects its WebSocket, and sends its questions one after another, waiting for the bot's
reply (an answer or an escalation notice) before the next. Prints messages per second, reply
latency p50/p95/p99 (from the POST to the reply on the socket), and the server's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

QUESTIONS = [
    "How long do refunds take?",
    "How do I return an item?",
    "Can I change my order after placing it?",
    "Do you deliver on Saturdays?",
    "How do I track my order?",
    "Which payment methods do you accept?",
    "Can I pay with PayPal?",
    "How much is delivery?",
]
REPLIES = {"answer", "escalated"}


async def customer(
    session: aiohttp.ClientSession, url: str, index: int, messages: int, latencies: list[float]
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # peak resident set size
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = 18000 + os.getpid() % 1000
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update(
        TANDEM_KNOWLEDGE__DATA_DIR=str(data_dir),
        TANDEM_SERVER__RATE_LIMIT_PER_MINUTE="1000",
        TANDEM_SERVER__LOG_LEVEL="warning",
    )
    tandem = Path(sys.executable).with_name("tandem")
    process = subprocess.Popen([str(tandem), "serve", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("tandem serve did not start")


async def run(url: str, conversations: int, messages: int) -> dict[str, float]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(customer(session, url, i, messages, latencies) for i in range(conversations))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5, help="Questions per conversation.")
    parser.add_argument("--url", help="A running Tandem; default: start one.")
    args = parser.parse_args()
    process = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            process, url = start_server(Path(tmp) / "data")
        try:
            asyncio.run(run(url, 5, 1))  # warm-up
            figures = asyncio.run(run(url, args.conversations, args.messages))
            if process is not None:
                figures["server_peak_rss_mb"] = round(rss_mb(process.pid), 1)
        finally:
            if process is not None:
                process.terminate()
                process.wait(30)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Load benchmark: many concurrent customer conversations over WebSockets on loopback.

Usage: python bench/load.py [--conversations 50] [--messages 5] [--url http://host:port]

Without ``--url`` it starts ``tandem serve`` on the embedded default (SQLite, embedded Chroma,
offline embeddings) in a temporary directory. Each simulated customer opens a conversation,
connects its WebSocket, and sends its questions one after another, waiting for the bot's
reply (an answer or an escalation notice) before the next. Prints messages per second, reply
latency p50/p95/p99 (from the POST to the reply on the socket), the server's CPU milliseconds
per message, its memory (peak and resident at start-up, peak and idle after the run), the
batched embedding rate of the same model measured in this process just before (the
yardstick: ``messages_per_s / embed_batched_per_s``) and the machine's load average.

``--profile FILE`` attaches ``py-spy record`` to the server (``--format raw``: collapsed stacks,
sampled on every thread) during the measured run; ``bench/profile_parts.py FILE`` splits it.
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


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """``VmHWM`` is the peak resident set size, ``VmRSS`` the current one."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def start_server(data_dir: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = 18000 + os.getpid() % 1000
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update(
        TANDEM_KNOWLEDGE__DATA_DIR=str(data_dir),
        TANDEM_SERVER__RATE_LIMIT_PER_MINUTE="1000",
        # The bench is one address opening hundreds of conversations.
        TANDEM_SERVER__MESSAGES_PER_ADDRESS_PER_MINUTE="100000",
        TANDEM_SERVER__CONVERSATIONS_PER_ADDRESS_PER_MINUTE="100000",
        TANDEM_SERVER__LOG_LEVEL="warning",
    )
    env.update(item.split("=", 1) for item in extra)
    tandem = Path(sys.executable).with_name("tandem")
    command = [str(tandem), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env)
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
    parser.add_argument("--profile", help="Record the server with py-spy into this file.")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        help="KEY=VALUE for the server only (e.g. PYTHONPATH=/old/checkout to bench a baseline).",
    )
    parser.add_argument("--data-dir", type=Path, help="Keep the data here (a second run restarts).")
    parser.add_argument("--no-embed-rate", action="store_true", help="Skip the yardstick.")
    args = parser.parse_args()
    process = None
    figures: dict[str, float] = {"load_avg_1m": os.getloadavg()[0]}
    if not args.no_embed_rate:
        figures["embed_batched_per_s"] = round(embed_rate(), 1)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            process, url = start_server(args.data_dir or Path(tmp) / "data", args.server_env)
            pid = process.pid
            figures["start_peak_rss_mb"] = round(rss_mb(pid), 1)
            time.sleep(2)
            figures["start_idle_rss_mb"] = round(rss_mb(pid, "VmRSS"), 1)
        try:
            asyncio.run(run(url, 5, 1))  # warm-up
            spy = record(pid, args.profile) if args.profile and process else None
            cpu = cpu_seconds(pid) if process is not None else 0.0
            figures.update(asyncio.run(run(url, args.conversations, args.messages)))
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            if process is not None:
                spent = cpu_seconds(pid) - cpu
                figures["server_cpu_ms_per_message"] = round(spent * 1000 / figures["messages"], 1)
                figures["server_peak_rss_mb"] = round(rss_mb(pid), 1)
                time.sleep(3)
                figures["server_idle_rss_mb"] = round(rss_mb(pid, "VmRSS"), 1)
            if "embed_batched_per_s" in figures:
                ratio = figures["messages_per_s"] / figures["embed_batched_per_s"]
                figures["ratio_to_embed_rate"] = round(ratio, 3)
            figures["load_avg_1m_after"] = os.getloadavg()[0]
        finally:
            if process is not None:
                process.terminate()
                process.wait(60)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

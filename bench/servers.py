"""Starting ``tandem serve`` for the benches: one process or several replicas, this checkout's
code, on a fresh Postgres database when asked; and reading a process's CPU time and memory.

Shared by ``load.py``, ``sockets.py`` and ``replica_failover.py`` (each puts this folder on
``sys.path`` and imports ``servers``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TANDEM = str(Path(sys.executable).with_name("tandem"))
POSTGRES_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"
# The benches are one address opening hundreds of conversations.
BENCH_SETTINGS = {
    "TANDEM_SERVER__RATE_LIMIT_PER_MINUTE": "1000",
    "TANDEM_SERVER__MESSAGES_PER_ADDRESS_PER_MINUTE": "100000",
    "TANDEM_SERVER__CONVERSATIONS_PER_ADDRESS_PER_MINUTE": "100000",
    "TANDEM_SERVER__LOG_LEVEL": "warning",
}
# What the simulated customers ask: questions the sample knowledge base answers.
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
REPLIES = {"answer", "escalated"}  # the event types that end a customer's wait


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(data_dir: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for ``tandem serve``: no ``TANDEM_*`` of the caller's, the bench's rate
    limits, this checkout's code (``PYTHONPATH``; a ``PYTHONPATH`` in ``settings`` wins, to
    bench an older checkout), then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(BENCH_SETTINGS, TANDEM_KNOWLEDGE__DATA_DIR=str(data_dir))
    env.update(settings or {})
    return env


def key_values(items: Iterable[str]) -> dict[str, str]:
    """``["KEY=VALUE", …]`` (command-line options) as a dict."""
    return dict(item.split("=", 1) for item in items)


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid


def start(env: Mapping[str, str], log: Path | None = None) -> Replica:
    """Start ``tandem serve`` on a free port (output to ``log``, or to this terminal)."""
    port = free_port()
    command = [TANDEM, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if log is None:
        process = subprocess.Popen(command, env=dict(env))
    else:
        with log.open("ab") as output:
            process = subprocess.Popen(
                command, env=dict(env), stdout=output, stderr=subprocess.STDOUT
            )
    return Replica(process, f"http://127.0.0.1:{port}")


def healthy(replica: Replica) -> bool:
    if replica.process.poll() is not None:
        raise SystemExit(f"tandem serve exited ({replica.process.returncode}); see its log")
    try:
        with urllib.request.urlopen(replica.url + "/healthz", timeout=1):
            return True
    except OSError:
        return False


def wait_healthy(replicas: Iterable[Replica], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    for replica in replicas:
        while not healthy(replica):
            if time.monotonic() > deadline:
                raise SystemExit("tandem serve did not start")
            time.sleep(0.3)


async def until_healthy(replica: Replica, timeout: float = 300) -> None:
    """``wait_healthy`` for one replica, without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while not healthy(replica):
        if time.monotonic() > deadline:
            raise SystemExit("tandem serve did not start")
        await asyncio.sleep(0.3)


def stop(replicas: Iterable[Replica | None]) -> None:
    """Terminate each replica still running (kill it after 15 s)."""
    for replica in replicas:
        if replica is None or replica.process.poll() is not None:
            continue
        replica.process.terminate()
        with suppress(subprocess.TimeoutExpired):
            replica.process.wait(15)
        if replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait()


@contextmanager
def replicas(
    count: int, env: Mapping[str, str], logs: Path | None = None
) -> Iterator[list[Replica]]:
    """``count`` replicas of ``tandem serve`` on one ``env``, healthy, stopped on exit.

    The first starts alone and is waited for: a first start migrates the database and ingests
    the sample knowledge base into the shared data directory, and the others must find both
    done (they then start together)."""
    started: list[Replica] = []
    try:
        for index in range(count):
            log = None if logs is None else logs / f"replica-{index}.log"
            started.append(start(env, log))
            if index == 0:
                wait_healthy(started)
        wait_healthy(started)
        yield started
    finally:
        stop(started)


@contextmanager
def fresh_database(prefix: str = "tandem_bench") -> Iterator[str]:
    """A new empty database on the local Postgres (trust auth, user ``postgres``), dropped on
    exit; yields its SQLAlchemy URL. Call outside a running event loop."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(**POSTGRES_ADMIN)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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

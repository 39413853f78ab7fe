"""Postgres and Redis for tests: started if stopped; a test fails loudly in CI (CI=true) when
one cannot be reached, and is skipped elsewhere."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def _listening(address: tuple[str, int]) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(address) == 0


def _start_commands(name: str) -> list[list[str]]:
    if name == "postgres":
        versions = sorted(p.name for p in Path("/etc/postgresql").glob("*"))
        return [
            ["pg_ctlcluster", "--skip-systemctl-redirect", v, "main", "start"]
            for v in versions[-1:]
        ]
    return [
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ]
    ]


def require(name: str) -> None:
    """Make sure ``postgres`` or ``redis`` listens; start it if it is stopped."""
    address = POSTGRES if name == "postgres" else REDIS
    if _listening(address):
        return
    for command in _start_commands(name):
        try:
            subprocess.run(command, check=False, capture_output=True, timeout=60)
        except OSError:
            continue
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _listening(address):
            return
        time.sleep(0.25)
    message = f"{name} is not reachable on {address[0]}:{address[1]} and could not be started"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@asynccontextmanager
async def fresh_postgres(prefix: str) -> AsyncIterator[str]:
    """A new, empty Postgres database for one test; its SQLAlchemy URL; dropped afterwards."""
    import asyncpg  # type: ignore[import-untyped]

    require("postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=POSTGRES[0], user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@{POSTGRES[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

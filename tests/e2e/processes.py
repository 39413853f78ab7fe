"""Run ``tandem`` as a real process (the console script), as an operator would."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]
# The console script of the Python running the tests, whatever PATH says.
_BESIDE = Path(sys.executable).with_name("tandem")
TANDEM = str(_BESIDE) if _BESIDE.exists() else shutil.which("tandem") or "tandem"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tandem_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update({"TANDEM_KNOWLEDGE__DATA_DIR": str(data_dir), **settings})
    # This checkout's code, whichever checkout the console script was installed from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_cli(env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run(
        [TANDEM, *args], env=dict(env), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def serving(env: Mapping[str, str], log: Path, timeout: float = 180) -> Iterator[str]:
    """Start ``tandem serve`` on a free port; yield its base URL once ``/healthz`` answers."""
    with serving_process(env, log, timeout) as (url, _):
        yield url


@contextmanager
def serving_process(
    env: Mapping[str, str], log: Path, timeout: float = 180
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``serving``, with the process too (for a test that kills it)."""
    port = free_port()
    command = [TANDEM, "serve", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with started(command, env, log, url + "/healthz", timeout) as process:
        yield url, process


@contextmanager
def chroma_server(path: Path, log: Path, timeout: float = 60) -> Iterator[str]:
    """A Chroma server (``chroma run``, from the chromadb package) on a free port, as several
    replicas share one; yield its URL once its heartbeat answers."""
    chroma = str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    command = [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}  # loopback only
    url = f"http://127.0.0.1:{port}"
    with started(command, env, log, url + "/api/v2/heartbeat", timeout):
        yield url


@contextmanager
def started(
    command: list[str], env: Mapping[str, str], log: Path, ready: str, timeout: float
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` with its output in ``log``; yield it once ``ready`` answers over HTTP,
    and stop it afterwards."""
    with log.open("w") as output:
        process = subprocess.Popen(command, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"{command[0]} exited:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(ready, timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"no {ready} in {timeout}s:\n{log.read_text()}"
                time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def open_and_send(session: aiohttp.ClientSession, url: str, text: str) -> tuple[str, str]:
    """Open a conversation on ``url`` as a web customer and send ``text``; its id and token."""
    async with session.post(f"{url}/api/conversations") as response:
        opened = await response.json()
    async with session.post(
        f"{url}/api/conversations/{opened['id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {opened['token']}"},
    ) as response:
        assert response.status == 202
    return opened["id"], opened["token"]

"""``tandem serve`` at debug level, as an operator runs it (issue 12 item 15): the access log is
on and structured, and a customer's WebSocket ``?token=`` never reaches it."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.conftest import REPO
from tests.e2e.processes import serving, tandem_env


async def test_the_served_access_log_holds_no_token(tmp_path: Path) -> None:
    env = tandem_env(
        tmp_path / "data",
        TANDEM_SERVER__LOG_LEVEL="debug",
        TANDEM_SERVER__LOG_FORMAT="json",
        PYTHONPATH=str(REPO),  # this checkout's code, whichever checkout installed the script
    )
    log = tmp_path / "serve.log"
    with serving(env, log) as url:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/api/conversations", json={}) as response:
                opened = await response.json()
            token, ident = opened["token"], opened["id"]
            socket = await session.ws_connect(
                f"{url}/api/conversations/{ident}/ws?token={token}&after=0"
            )
            await socket.close()
            async with session.get(f"{url}/healthz?token={token}") as response:
                assert response.status == 200
    text = log.read_text()
    assert token not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "aiohttp.access"]
    socket_line = next(line for line in access if line.get("path", "").endswith("/ws"))
    assert socket_line["path"] == f"/api/conversations/{ident}/ws"
    assert socket_line["query"] == "token=REDACTED&after=0"
    assert socket_line["status"] == 101
    assert "Traceback" not in text, "the server shut down cleanly"

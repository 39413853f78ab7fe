"""The server as attackers drive it (issue 12 items 15 and 17): slow clients that half-send
headers or declare a body they never send are closed within the timeouts, connections beyond the
cap are refused at once, and the access log never holds a customer's token."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from integrations.composition import Services
from integrations.web.app import create_app
from integrations.web.serving import CappedSite, ServerLimits, start

LIMITS = ServerLimits(header_timeout=1.0, body_timeout=1.0, max_connections=30, lingering=0.5)
SLOW = 20  # sockets per test (the cap is 30)


@pytest_asyncio.fixture()
async def site(services: Services) -> AsyncIterator[CappedSite]:
    runner, site = await start(
        create_app(services.settings, services),
        "127.0.0.1",
        0,
        LIMITS,
        access_log=logging.getLogger("aiohttp.access"),
    )
    yield site
    await runner.cleanup()


async def _closed_after(site: CappedSite, payload: bytes) -> tuple[float, bytes]:
    """Send ``payload`` and wait for the server to close: (seconds, what it answered)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    began = time.monotonic()
    writer.write(payload)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)  # EOF: the server closed
    writer.close()
    return time.monotonic() - began, answer


async def _healthy(site: CappedSite) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{site.port}/healthz") as response:
            assert response.status == 200


async def test_half_sent_headers_are_closed_in_time(site: CappedSite) -> None:
    half = b"GET /healthz HTTP/1.1\r\nHost: tandem\r\nX-Slow: "
    results = await asyncio.gather(*(_closed_after(site, half) for _ in range(SLOW)))
    for took, answer in results:
        assert answer == b"", "nothing is answered to a request that never finished"
        assert took < LIMITS.header_timeout + 2, f"held {took:.1f}s"
    await _healthy(site)


async def test_a_declared_body_never_sent_gets_a_408_in_time(site: CappedSite) -> None:
    unsent = (
        b"POST /api/conversations HTTP/1.1\r\nHost: tandem\r\n"
        b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
    )
    results = await asyncio.gather(*(_closed_after(site, unsent) for _ in range(SLOW)))
    for took, answer in results:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert b"request_timeout" in answer
        assert took < LIMITS.body_timeout + LIMITS.lingering + 2, f"held {took:.1f}s"
    await _healthy(site)


async def test_connections_beyond_the_cap_are_refused_at_once(site: CappedSite) -> None:
    held = [await asyncio.open_connection("127.0.0.1", site.port) for _ in range(30)]
    await asyncio.sleep(0.1)
    took, answer = await _closed_after(site, b"GET /healthz HTTP/1.1\r\nHost: tandem\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
    assert took < 1
    for _, writer in held:
        writer.close()
    await asyncio.sleep(0.3)
    await _healthy(site)


async def test_the_access_log_holds_no_token(
    site: CappedSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    base = f"http://127.0.0.1:{site.port}"
    async with aiohttp.ClientSession() as session:
        async with session.post(base + "/api/conversations", json={}) as response:
            opened = await response.json()
        token, ident = opened["token"], opened["id"]
        socket = await session.ws_connect(
            f"{base}/api/conversations/{ident}/ws?token={token}&after=0"
        )
        await socket.close()
        # A bearer-shaped value under any name is hidden too.
        async with session.get(f"{base}/healthz?x={token}&access_token=abc") as response:
            assert response.status == 200
    await asyncio.sleep(0.2)
    lines = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert lines, "access logging is on"
    for record in lines:
        assert token not in f"{record.getMessage()} {record.__dict__}"
    socket_line = next(r for r in lines if getattr(r, "path", "").endswith("/ws"))
    assert socket_line.path == f"/api/conversations/{ident}/ws"  # type: ignore[attr-defined]
    assert socket_line.query == "token=REDACTED&after=0"  # type: ignore[attr-defined]
    assert socket_line.status == 101  # type: ignore[attr-defined]
    health = next(r for r in lines if getattr(r, "path", "") == "/healthz")
    assert health.query == "x=REDACTED&access_token=REDACTED"  # type: ignore[attr-defined]

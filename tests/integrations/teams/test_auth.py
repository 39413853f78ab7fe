"""Issue 12 item 4: a forged or malformed Bot Framework token is a 401, never a 500, and the
signing keys are fetched asynchronously with a timeout (from a local fake OpenID endpoint)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from integrations.teams import auth
from knowledge.base import KnowledgeBase
from tests.conftest import running
from tests.integrations.teams.conftest import fixture, teams_settings

APP_ID = "00000000-0000-0000-0000-0000000000aa"


class FakeOpenId:
    """Serves an OpenID configuration and a key set whose "k1" is not the forger's key."""

    def __init__(self, delay: float = 0) -> None:
        self.delay = delay
        self.requests = 0
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = json.loads(RSAAlgorithm.to_jwk(other.public_key()))
        self.jwk.update(kid="k1", endorsements=["msteams", "webchat"])

    async def __aenter__(self) -> FakeOpenId:
        app = web.Application()
        app.router.add_get("/config", self.config)
        app.router.add_get("/keys", self.keys)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    async def config(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.delay)
        return web.json_response({"jwks_uri": str(self.server.make_url("/keys"))})

    async def keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.jwk]})


@pytest_asyncio.fixture()
async def openid(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenId]:
    async with FakeOpenId() as fake:
        yield _point_at(monkeypatch, fake)


def _point_at(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenId) -> FakeOpenId:
    metadata = auth.AsyncOpenIdMetadata(str(fake.server.make_url("/config")))
    monkeypatch.setattr(auth, "_metadata", lambda url: metadata)
    return fake


def forged(kid: str | None = "k1") -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": "http://127.0.0.1:9/",
        "exp": int(time.time()) + 600,
        "nbf": int(time.time()) - 10,
    }
    headers = {"kid": kid} if kid else {}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


async def post(server: TestServer, token: str) -> int:
    activity = fixture("webchat_message.json", service_url="http://127.0.0.1:9/", id="x", text="hi")
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/api/messages"), json=activity, headers=headers
        ) as response:
            return response.status


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIn0.",
        forged(),
        forged("unknown-key"),
        forged(None),
    ],
)
async def test_a_forged_or_malformed_token_is_refused_with_401(
    tmp_path: Path, sample_kb: KnowledgeBase, openid: FakeOpenId, token: str
) -> None:
    settings = teams_settings(tmp_path, app_id=APP_ID)
    async with running(settings, sample_kb) as (server, services):
        assert await post(server, token) == 401
        assert await services.store.count("messages") == 0, "nothing was processed"


async def test_a_hanging_key_endpoint_is_bounded_by_a_timeout_and_the_loop_stays_free(
    tmp_path: Path, sample_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "FETCH_TIMEOUT", 0.3)
    async with FakeOpenId(delay=30) as fake:
        _point_at(monkeypatch, fake)
        settings = teams_settings(tmp_path, app_id=APP_ID)
        async with running(settings, sample_kb) as (server, services):
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.02)
                    ticks += 1

            ticker = asyncio.create_task(tick())
            started = time.monotonic()
            assert await post(server, forged()) == 401
            assert time.monotonic() - started < 5
            ticker.cancel()
            assert ticks > 5, "the event loop kept running while the keys were fetched"
            assert await post(server, forged()) == 401
            assert fake.requests == 1, "a failed fetch is not retried on every request"

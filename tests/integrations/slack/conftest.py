"""Tandem with Slack switched on against a local fake Slack Web API; requests into the app are
signed with the signing secret, as Slack signs them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from config import KnowledgeSettings, Settings, SlackSettings
from integrations.composition import Services
from knowledge.base import KnowledgeBase
from tests.conftest import running
from tests.fakes.slack_api import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"
SUPPORT, LEGAL, ADMINS, PAYMENTS = "C0SUPPORT1", "C0LEGAL001", "C0ADMINS01", "C0PAYMENT1"


def fixture(name: str, **values: str) -> dict[str, Any]:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)  # type: ignore[no-any-return]


class SlackSide:
    """Slack as the app sees it: signed requests in, the fake Web API's record out."""

    def __init__(self, server: TestServer, fake: FakeSlack, services: Services) -> None:
        self.server, self.fake, self.services = server, fake, services

    async def send(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        retry: int | None = None,
    ) -> aiohttp.ClientResponse:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.server.make_url("/slack/events"), data=body, headers=headers
            ) as response:
                await response.read()
                return response

    async def interaction(self, payload: dict[str, Any], **kwargs: Any) -> aiohttp.ClientResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.send(body, "application/x-www-form-urlencoded", **kwargs)

    async def event(self, payload: dict[str, Any], **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.send(json.dumps(payload).encode(), "application/json", **kwargs)

    async def command(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        return await self.send(urlencode(payload).encode(), "application/x-www-form-urlencoded")


@pytest_asyncio.fixture()
async def slack(tmp_path: Path, sample_kb: KnowledgeBase) -> AsyncIterator[SlackSide]:
    async with FakeSlack() as fake:
        settings = Settings(
            knowledge=KnowledgeSettings(data_dir=tmp_path / "data"),
            slack=SlackSettings(
                bot_token=SecretStr("xoxb-test-token"),
                signing_secret=SecretStr(SECRET),
                api_url=fake.url,
                default_channel=SUPPORT,
                routes={"sensitive": LEGAL, "payments": PAYMENTS},
                admin_user_ids=["U0ADMIN001"],
            ),
        )
        async with running(settings, sample_kb) as (server, services):
            yield SlackSide(server, fake, services)

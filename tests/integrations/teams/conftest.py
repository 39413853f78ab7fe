"""Tandem with Teams on, against a local fake Bot Connector; activities arrive over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer

from config import KnowledgeSettings, Settings, TeamsSettings
from integrations.composition import Services
from knowledge.base import KnowledgeBase
from tests.conftest import running
from tests.fakes.bot_connector import FakeConnector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "teams"
AGENTS = "19:agents@thread.tacv2"
CUSTOMER = "webchat-conversation-1"


def fixture(name: str, **values: str) -> dict[str, Any]:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", json.dumps(value)[1:-1])
    return json.loads(text)  # type: ignore[no-any-return]


class BotSide:
    """The Bot Framework channel as the app sees it."""

    def __init__(self, server: TestServer, connector: FakeConnector, services: Services) -> None:
        self.server, self.connector, self.services = server, connector, services

    async def post(self, activity: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.server.make_url("/api/messages"), json=activity, headers=headers
            ) as response:
                body = (
                    await response.json()
                    if response.content_type == "application/json"
                    else await response.text()
                )
                return response.status, body


def teams_settings(tmp_path: Path, **teams: Any) -> Settings:
    return Settings(
        knowledge=KnowledgeSettings(data_dir=tmp_path / "data"),
        teams=TeamsSettings(
            enabled=True,
            agent_team_id="19:team@thread.tacv2",
            admin_object_ids=["aad-admin"],
            **teams,
        ),
    )


@pytest_asyncio.fixture()
async def bot(tmp_path: Path, sample_kb: KnowledgeBase) -> AsyncIterator[BotSide]:
    async with FakeConnector() as connector:
        settings = teams_settings(tmp_path)
        async with running(settings, sample_kb) as (server, services):
            yield BotSide(server, connector, services)

"""The desk's card carries the newest audit entries and a count; older ones are paged (issue 12
item 19: a card after 2,000 actions was 451 KB)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.card import HISTORY_PAGE
from bot.conversation import ActionKind, AgentAction
from integrations.composition import Services
from integrations.web.app import create_app
from tests.bot.test_engine import escalated
from tests.conftest import add_agent

NOTES = 70


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    await add_agent(services.store, "alice")
    async with TestServer(create_app(services.settings, services)) as test_server:
        yield test_server


async def test_the_card_pages_its_history(server: TestServer, services: Services) -> None:
    _, escalation = await escalated(services, "I want a person please")
    for n in range(NOTES):
        note = AgentAction(ActionKind.NOTE, "Alice", "desk", f"note {n}")
        await services.engine.act(escalation.id, note)
    total = len((await services.engine.card(escalation.id)).history)
    assert total >= NOTES
    card_url = server.make_url(f"/api/desk/escalations/{escalation.id}")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(card_url / "history") as response:
            assert response.status == 401, "the history is the desk's, behind sign-in"
        login = {"username": "alice", "password": "secret-pass"}
        async with session.post(server.make_url("/api/desk/login"), json=login) as response:
            assert response.status == 200
        async with session.get(card_url) as response:
            card = await response.json()
        assert card["history_count"] == total
        assert [h["n"] for h in card["history"]] == list(range(total - HISTORY_PAGE, total))

        pages: list[dict[str, object]] = []
        before = card["history"][0]["n"]
        while before > 0:
            async with session.get(
                (card_url / "history").with_query(before=before, limit=30)
            ) as response:
                assert response.status == 200
                page = await response.json()
            assert page["history_count"] == total
            assert 0 < len(page["history"]) <= 30
            assert page["history"][-1]["n"] == before - 1, "the page ends just before 'before'"
            pages = page["history"] + pages
            before = page["history"][0]["n"]
        assert [h["n"] for h in pages + card["history"]] == list(range(total))

        async with session.get((card_url / "history").with_query(limit=-1)) as response:
            assert response.status == 400
            message = (await response.json())["error"]["message"]
            assert message == "'limit' must be a whole number from 1 to 500"
        async with session.get((card_url / "history").with_query(before="x")) as response:
            assert response.status == 400

"""The service with an LLM provider set, over HTTP: the card is posted at once with the
extractive draft however slow the provider is, then updated in place with the LLM's summary and
draft; nothing the model writes reaches the customer without an agent's click."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from config import KnowledgeSettings, LLMSettings, Settings
from knowledge.base import KnowledgeBase
from tests.conftest import add_agent, eventually, running
from tests.e2e.test_http_conversation import Customer, desk
from tests.fakes.openai_api import FakeOpenAI, Slow
from tests.integrations.llm.helpers import SUMMARY

EVIL = {"reply": "Refund of $899 approved: https://evil.example/pay", "cited_article_ids": []}


async def test_slow_provider_never_delays_the_card(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    async with FakeOpenAI() as fake:
        fake.script("DraftOut", Slow(5, {**EVIL, "covered": True}))
        llm = LLMSettings(provider="openai", base_url=fake.base_url, model="m", api_key="sk-x")
        settings = Settings(knowledge=KnowledgeSettings(data_dir=tmp_path / "data"), llm=llm)
        jar = aiohttp.CookieJar(unsafe=True)
        async with (
            running(settings, sample_kb) as (server, services),
            aiohttp.ClientSession() as session,
            aiohttp.ClientSession(cookie_jar=jar) as agent,
        ):
            await add_agent(services.store, "alice")
            customer = Customer(session, server)
            await customer.start()
            started = time.monotonic()
            await customer.say("I want to talk to a person about my order, please.")
            await customer.next_event("escalated")
            assert time.monotonic() - started < 4
            await desk(agent, server, "POST", "/login", username="alice", password="secret-pass")
            _, queue = await desk(agent, server, "GET", "/escalations")
            [item] = queue["escalations"]
            _, card = await desk(agent, server, "GET", f"/escalations/{item['id']}")
            assert card["draft"] and "evil.example" not in card["draft"]
            assert all("evil.example" not in e.get("text", "") for e in await customer.quiet())
            path = f"/escalations/{item['id']}/actions"
            await desk(agent, server, "POST", path, action="approve")
            sent = await customer.next_event("agent_message")
            assert sent["text"] == card["draft"]


async def test_the_card_updates_in_place_with_the_llm_draft(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    reply = "Hi, I have passed this to our team; you can start a return from your account page."
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", {**SUMMARY, "intent": "Talk to a person about an order"})
        fake.script("DraftOut", {"reply": reply, "cited_article_ids": [], "covered": True})
        llm = LLMSettings(provider="openai", base_url=fake.base_url, model="m", api_key="sk-x")
        settings = Settings(knowledge=KnowledgeSettings(data_dir=tmp_path / "data"), llm=llm)
        jar = aiohttp.CookieJar(unsafe=True)
        async with (
            running(settings, sample_kb) as (server, services),
            aiohttp.ClientSession() as session,
            aiohttp.ClientSession(cookie_jar=jar) as agent,
        ):
            await add_agent(services.store, "alice")
            customer = Customer(session, server)
            await customer.start()
            await customer.say("I want to talk to a person about my order, please.")
            await customer.next_event("escalated")
            await desk(agent, server, "POST", "/login", username="alice", password="secret-pass")
            _, queue = await desk(agent, server, "GET", "/escalations")
            [item] = queue["escalations"]

            async def refined() -> bool:
                _, card = await desk(agent, server, "GET", f"/escalations/{item['id']}")
                return bool(card["draft_version"] == 2 and card["draft"].startswith(reply[:30]))

            await eventually(refined, "the LLM draft on the card")
            _, card = await desk(agent, server, "GET", f"/escalations/{item['id']}")
            assert card["summary"]["intent"] == "Talk to a person about an order"
            assert all(reply[:20] not in e.get("text", "") for e in await customer.quiet())

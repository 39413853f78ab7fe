"""The model's other helpers in the running service, against the fake OpenAI server: customer
answers phrased from the passage (opt-in, grounded, with the citation, else the passage itself)
and live-assist suggestions for the agent holding a conversation (internal, never sent)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from config import KnowledgeSettings, LLMSettings, Settings
from integrations.composition import Services
from knowledge.base import KnowledgeBase
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from tests.conftest import add_agent, eventually, running
from tests.e2e.test_http_conversation import Customer, desk
from tests.fakes.openai_api import FakeOpenAI
from tests.integrations.llm.helpers import SUMMARY

REFUNDS = "When will I get my refund?"


def settings_for(tmp_path: Path, fake: FakeOpenAI, **llm: object) -> Settings:
    model = LLMSettings(provider="openai", base_url=fake.base_url, model="m", api_key="sk-x", **llm)
    return Settings(knowledge=KnowledgeSettings(data_dir=tmp_path / "data"), llm=model)


@dataclass
class Escalated:
    """The running service with one escalated web customer and a signed-in desk agent."""

    server: TestServer
    services: Services
    customer: Customer
    agent: aiohttp.ClientSession
    path: str  # the escalation's desk path, /escalations/{id}


@asynccontextmanager
async def escalated(settings: Settings, kb: KnowledgeBase, text: str) -> AsyncIterator[Escalated]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        running(settings, kb) as (server, services),
        aiohttp.ClientSession() as session,
        aiohttp.ClientSession(cookie_jar=jar) as agent,
    ):
        await add_agent(services.store, "alice")
        customer = Customer(session, server)
        await customer.start()
        await customer.say(text)
        await customer.next_event("escalated")
        await desk(agent, server, "POST", "/login", username="alice", password="secret-pass")
        _, queue = await desk(agent, server, "GET", "/escalations")
        [item] = queue["escalations"]
        yield Escalated(server, services, customer, agent, f"/escalations/{item['id']}")


async def test_generative_answers_are_grounded_or_the_passage(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    phrased = "Your refund comes within 3 working days of your return reaching our warehouse."
    async with FakeOpenAI() as fake:
        async with (
            running(settings_for(tmp_path, fake, answer_mode="generative"), sample_kb) as (
                server,
                _,
            ),
            aiohttp.ClientSession() as session,
        ):
            customer = Customer(session, server)
            await customer.start()
            fake.script("AnswerOut", {"answer": phrased})
            await customer.say("How long do refunds take?")
            answer = await customer.next_event("answer")
            assert answer["text"] == phrased
            assert answer["sources"][0]["title"] == REFUNDS, "the citation stays"

            fake.script("AnswerOut", {"answer": "Refunds take 30 days; call 0800 123 456."})
            await customer.say("Where is my refund?")
            fallback = await customer.next_event("answer")
            assert "30 days" not in fallback["text"] and "3 working days" in fallback["text"]
            assert fallback["sources"][0]["title"] == REFUNDS


async def test_extractive_answer_mode_never_calls_the_model_for_answers(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    async with FakeOpenAI() as fake:
        async with (
            running(settings_for(tmp_path, fake), sample_kb) as (server, _),
            aiohttp.ClientSession() as session,
        ):
            customer = Customer(session, server)
            await customer.start()
            await customer.say("How long do refunds take?")
            answer = await customer.next_event("answer")
            assert answer["text"].startswith("We refund within 3 working days")
    assert all("AnswerOut" not in json.dumps(r) for r in fake.requests)


async def test_the_holding_agent_gets_suggestions_that_never_reach_the_customer(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    tip = "Tell them refunds arrive within 3 working days of the return reaching the warehouse."
    async with FakeOpenAI() as fake:
        fake.script("AssistOut", {"suggestions": [tip, "Offer a $50 voucher"]})
        settings = settings_for(tmp_path, fake)
        text = "I want to talk to a person about my refund, please."
        async with escalated(settings, sample_kb, text) as case:
            server, agent, customer, path = case.server, case.agent, case.customer, case.path
            await desk(agent, server, "POST", f"{path}/actions", action="take_over")
            await customer.say("How long do refunds take?")

            async def suggested() -> bool:
                _, card = await desk(agent, server, "GET", path)
                return any(m["text"] == f"Suggested reply: {tip}" for m in card["transcript"])

            await eventually(suggested, "the model's suggestion on the card")
            _, card = await desk(agent, server, "GET", path)
            notes = [m for m in card["transcript"] if m["text"].startswith("Suggested reply")]
            assert len(notes) == 1 and notes[0]["internal"], "the unverified one is dropped"
            events = await customer.quiet()
            assert all("Suggested" not in e.get("text", "") for e in events)


async def test_regenerate_brings_a_fresh_llm_draft(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    first = "Hi, thanks for waiting; I am checking your order now."
    second = "Hi, I have looked again: you can start a return from your account page."
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script(  # the first refine, then the one after the regenerate
            "DraftOut",
            {"reply": first, "cited_article_ids": [], "covered": True},
            {"reply": second, "cited_article_ids": [], "covered": True},
        )
        settings = settings_for(tmp_path, fake)
        text = "I want to talk to a person about my order, please."
        async with escalated(settings, sample_kb, text) as case:
            server, agent, path = case.server, case.agent, case.path

            def has_draft(text: str) -> object:
                async def check() -> bool:
                    _, card = await desk(agent, server, "GET", path)
                    return bool(card["draft"].startswith(text))

                return check

            await eventually(has_draft(first), "the first LLM draft")  # type: ignore[arg-type]
            status, result = await desk(
                agent, server, "POST", f"{path}/actions", action="regenerate"
            )
            assert status == 200 and result["outcome"] == "done"
            await eventually(has_draft(second), "the regenerated LLM draft")  # type: ignore[arg-type]


async def test_an_edited_reply_becomes_a_proposed_article_that_an_admin_accepts(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings
) -> None:
    article = {
        "title": "Engraving on oak furniture",
        "question": "Can you engrave text on oak furniture?",
        "answer": "We can engrave up to 40 characters on oak tables for £25.",
    }
    reply = "Hi Jo, yes: we can engrave up to 40 characters on oak tables for £25."
    async with FakeOpenAI() as fake:
        fake.script("ArticleOut", article)
        settings = settings_for(tmp_path, fake)
        kb = KnowledgeBase(settings=settings.knowledge, embeddings=embeddings)
        text = "Can you engrave a poem on my oak table? I'm jo@mail.example"
        async with escalated(settings, kb, text) as case:
            server, agent = case.server, case.agent
            path = f"{case.path}/actions"
            await desk(agent, server, "POST", path, action="send", text=reply)

            async def proposed() -> bool:
                _, found = await desk(agent, server, "GET", "/suggestions")
                return bool(found["suggestions"] and found["suggestions"][0]["proposal"])

            await eventually(proposed, "the proposed article on the suggestion")
            _, found = await desk(agent, server, "GET", "/suggestions")
            [suggestion] = found["suggestions"]
            assert suggestion["proposal"] == article
            assert "jo@mail.example" not in fake.sent_text(), "personal data masked"
            status, _ = await desk(agent, server, "POST", f"/suggestions/{suggestion['id']}/accept")
            assert status == 200
            titles = dict(kb.catalogue())
            assert titles[f"learned-{suggestion['id']}"] == article["title"]
            article_id = f"learned-{suggestion['id']}"
            [learned] = [a for a in kb.store.articles() if a.id == article_id]
            assert learned.questions == 2, "the clean question, and the customer's own"
            rows = (
                tmp_path / "data" / "learned" / f"suggestion-{suggestion['id']}.jsonl"
            ).read_text()
            assert "jo@mail.example" not in rows, rows

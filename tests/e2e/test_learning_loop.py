"""The human in the loop teaches the bot, over real HTTP: a question escalates, the agent tags
the article it belonged to on the desk, an admin accepts it, and the same question is answered
next time. A trusted agent's tag applies at once; live outcomes are counted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.conversation import EscalationStatus
from config import KnowledgeSettings, LearningSettings, ServerSettings, Settings
from integrations.composition import Services, build_services
from integrations.learning import estimate
from integrations.web.app import create_app
from knowledge.base import KnowledgeBase
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from tests.conftest import add_agent, eventually
from tests.e2e.test_http_conversation import Customer, desk

ARTICLES = {
    "instalments": (
        "Pay in instalments",
        "You can pay in three interest-free instalments with Klarna at checkout.",
        ["Can I pay in instalments?", "Do you offer Klarna?", "Is there a pay later option?"],
    ),
    "returns": (
        "Returning an item",
        "Return any item within 30 days from your account page.",
        ["How do I return an item?", "Can I send my order back?", "What is the returns window?"],
    ),
    "delivery": (
        "Delivery times",
        "Standard delivery takes 3 to 5 working days.",
        ["How long does delivery take?", "When will my parcel arrive?", "Delivery time?"],
    ),
    "hours": (
        "Opening hours",
        "Our stores open 9am to 6pm, Monday to Saturday.",
        ["What are your opening hours?", "When do you open?", "Are you open on Saturday?"],
    ),
    "gift-cards": (
        "Gift cards",
        "Gift cards are valid for 24 months and can be used online and in store.",
        ["Do you sell gift cards?", "How long is a gift card valid?", "Can I use a gift card?"],
    ),
}
QUESTION = "could the cost of my wardrobe be broken up across a handful of months"


def _faq(path: Path) -> Path:
    rows = []
    for article_id, (title, answer, questions) in ARTICLES.items():
        for index, question in enumerate(questions):
            row = {"id": article_id, "title": title, "question": question}
            rows.append({**row, "answer": answer} if index == 0 else row)
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


@pytest_asyncio.fixture()
async def services(tmp_path: Path, embeddings: MiniLMOnnxEmbeddings) -> AsyncIterator[Services]:
    settings = Settings(
        knowledge=KnowledgeSettings(data_dir=tmp_path / "data", ingest_sample_on_first_start=False),
        server=ServerSettings(conversations_per_address_per_minute=100),
        learning=LearningSettings(
            trusted_agents=["trusty"], min_live_outcomes=5, live_refresh_seconds=1
        ),
    )
    knowledge_base = KnowledgeBase(settings=settings.knowledge, embeddings=embeddings)
    knowledge_base.ingest([_faq(tmp_path / "faq.jsonl")])
    built = await build_services(settings, knowledge_base)
    await add_agent(built.store, "alice")
    await add_agent(built.store, "trusty")
    yield built
    await built.close()


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(services.settings, services)) as test_server:
        yield test_server


async def _ask(session: aiohttp.ClientSession, server: TestServer, text: str) -> dict[str, object]:
    customer = Customer(session, server)
    await customer.start()
    await customer.say(text)
    return await customer.next_event("answer", "escalated")


async def _tag(server: TestServer, user: str, article: str | None) -> dict[str, object]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
        status, _ = await desk(
            agent, server, "POST", "/login", username=user, password="secret-pass"
        )
        assert status == 200
        _, queue = await desk(agent, server, "GET", "/escalations")
        escalation = queue["escalations"][0]
        _, card = await desk(agent, server, "GET", f"/escalations/{escalation['id']}")
        choices = [c["id"] for c in card["tag_choices"]]
        assert set(ARTICLES) <= set(choices), "every article can be chosen"
        assert choices[0] == card["suggested_article"], "the bot's best guess comes first"
        status, tagged = await desk(
            agent, server, "POST", f"/escalations/{escalation['id']}/tag", article_id=article
        )
        assert status == 200, tagged
        notes = [m["text"] for m in tagged["card"]["transcript"] if m["internal"]]
        assert any(n.startswith("Tagged:") for n in notes), "every channel's card shows the tag"
        return tagged


async def _metrics_show(server: TestServer, *lines: str) -> None:
    """Wait for ``/metrics`` to show ``lines``: it serves the last refresh's live estimate."""

    async def shown() -> bool:
        url = server.make_url("/metrics")
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            text = await response.text()
        return all(line in text for line in lines)

    await eventually(shown, f"/metrics to show {lines}")


async def test_a_tagged_and_accepted_question_is_answered_next_time(
    server: TestServer, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        first = await _ask(session, server, QUESTION)
        assert first["type"] == "escalated"
        tagged = await _tag(server, "alice", "instalments")
        assert tagged["question"] == QUESTION and tagged["applied"] is False
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as admin:
            await desk(admin, server, "POST", "/login", username="alice", password="secret-pass")
            _, pending = await desk(admin, server, "GET", "/suggestions")
            [suggestion] = pending["suggestions"]
            assert (suggestion["kind"], suggestion["article_id"]) == ("variant", "instalments")
            status, _ = await desk(admin, server, "POST", f"/suggestions/{suggestion['id']}/accept")
            assert status == 200
            status, twice = await desk(
                admin, server, "POST", f"/suggestions/{suggestion['id']}/accept"
            )
            assert status == 409 and "was already accepted" in str(twice), "a second click"
            status, missing = await desk(admin, server, "POST", "/suggestions/999/reject")
            assert status == 404 and "no pending suggestion #999" in str(missing)
        again = await _ask(session, server, QUESTION)
        assert again["type"] == "answer", again
        assert "Klarna" in str(again["text"])
    outcomes = await services.learning.outcomes()
    assert [(o.source, o.question) for o in outcomes] == [("agent_tag", QUESTION)]


async def test_a_trusted_agents_tag_applies_at_once(server: TestServer, services: Services) -> None:
    async with aiohttp.ClientSession() as session:
        assert (await _ask(session, server, QUESTION))["type"] == "escalated"
        tagged = await _tag(server, "trusty", "instalments")
        assert tagged["applied"] is True
        again = await _ask(session, server, QUESTION)
        assert again["type"] == "answer"


async def test_not_in_the_knowledge_base_is_a_gap_and_a_wrong_guess(
    server: TestServer, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        assert (await _ask(session, server, "do you repair antique clocks?"))["type"] == "escalated"
        tagged = await _tag(server, "alice", None)
        assert tagged["applied"] is False
    [outcome] = await services.learning.outcomes()
    assert (outcome.source, outcome.correct) == ("not_in_kb", False)
    [escalation] = await services.store.escalations(list(EscalationStatus))
    assert outcome.at == escalation.created_at, "the time its confidence was decided at"
    live = await estimate(services.learning, services.knowledge_base, services.settings.learning)
    assert live.labelled == 1 and live.threshold is None, "one outcome is not enough to move it"
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/metrics")) as response:
            shown = await response.text()
    assert "tandem_live_outcomes 1.0" in shown, "a tag shows in /metrics at once, not at a sweep"


async def test_an_unknown_article_is_refused(server: TestServer) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await _ask(session, server, QUESTION)
        await desk(session, server, "POST", "/login", username="alice", password="secret-pass")
        _, queue = await desk(session, server, "GET", "/escalations")
        status, body = await desk(
            session,
            server,
            "POST",
            f"/escalations/{queue['escalations'][0]['id']}/tag",
            article_id="no-such-article",
        )
        assert status == 422 and body["error"]["code"] == "unknown_article"
        status, body = await desk(
            session, server, "POST", f"/escalations/{queue['escalations'][0]['id']}/tag"
        )
    assert status == 422 and body["error"]["code"] == "invalid_article_id", "no article_id"
    assert body["error"]["message"] == "'article_id' must be an article id or null"


async def _tag_every_escalation(server: TestServer, article: str) -> int:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
        await desk(agent, server, "POST", "/login", username="alice", password="secret-pass")
        _, queue = await desk(agent, server, "GET", "/escalations")
        for escalation in queue["escalations"]:
            path = f"/escalations/{escalation['id']}/tag"
            status, body = await desk(agent, server, "POST", path, article_id=article)
            assert status == 200, body
        return len(queue["escalations"])


async def _answer_then(session: aiohttp.ClientSession, server: TestServer, reply: str) -> None:
    customer = Customer(session, server)
    await customer.start()
    await customer.say("How long does delivery take?")
    assert (await customer.next_event("answer", "escalated"))["type"] == "answer"
    if reply:
        await customer.say(reply)
        assert (await customer.next_event("answer", "escalated"))["type"] == "escalated"


async def test_answers_customers_reject_are_weighed_against_the_answers_and_raise_it(
    server: TestServer, services: Services
) -> None:
    """Five answers, each rejected by its customer: weighed against the answers the bot gave
    (never against nothing), every answer was wrong, so within a refresh, with no tag, the
    threshold rises and the bot stops answering. The agents' corrections of the escalations
    that follow are the same five wrong answers, counted once."""
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            await _answer_then(session, server, "that didn't help")

        async def raised() -> bool:
            return services.knowledge_base.live_threshold == 1.0

        await eventually(raised, "the refresh reads the rejections")
        assert await _tag_every_escalation(server, "returns") == 5
        sources = sorted(o.source for o in await services.learning.outcomes())
        assert sources == ["agent_corrected"] * 5 + ["agent_tag"] * 5 + ["customer_rejected"] * 5
        live = await estimate(
            services.learning, services.knowledge_base, services.settings.learning
        )
        assert (live.rejected, live.answers, live.threshold, live.samples) == (5, 5, 1.0, 0)
        assert (await _ask(session, server, "When will my parcel arrive?"))["type"] == "escalated"
    await _metrics_show(
        server, "tandem_live_rejected_answers 5.0", "tandem_live_answer_rejection_rate 1.0"
    )


async def test_a_rejection_among_many_answers_leaves_the_threshold(
    server: TestServer, services: Services
) -> None:
    """Only wrong answers are heard of: one rejection among twenty answers is reported and
    leaves the threshold (weighed against nothing it once read as precision 0: silence)."""
    async with aiohttp.ClientSession() as session:
        await _answer_then(session, server, "that didn't help")
        for _ in range(19):
            await _answer_then(session, server, "")
    [outcome] = await services.learning.outcomes()
    assert (outcome.source, outcome.article_id, outcome.correct) == (
        "customer_rejected",
        "delivery",
        False,
    )
    live = await estimate(services.learning, services.knowledge_base, services.settings.learning)
    assert (live.rejected, live.answers, live.threshold) == (1, 20, None)
    assert services.knowledge_base.live_threshold is None
    await _metrics_show(
        server, "tandem_live_answers 20.0", "tandem_live_answer_rejection_rate 0.05"
    )


async def test_a_tag_on_a_new_question_does_not_correct_the_answer_before_it(
    server: TestServer, services: Services
) -> None:
    """The bot answered one question well; the customer then asked another, which escalated.
    The agent's tag is about the second: the first answer was not wrong."""
    async with aiohttp.ClientSession() as session:
        customer = Customer(session, server)
        await customer.start()
        await customer.say("How long does delivery take?")
        assert (await customer.next_event("answer", "escalated"))["type"] == "answer"
        await customer.say(QUESTION)
        assert (await customer.next_event("answer", "escalated"))["type"] == "escalated"
    await _tag_every_escalation(server, "instalments")
    outcomes = await services.learning.outcomes()
    assert [(o.source, o.question) for o in outcomes] == [("agent_tag", QUESTION)]


async def test_an_answer_corrected_after_a_request_for_a_person_counts_at_its_confidence(
    server: TestServer, services: Services
) -> None:
    """The correction is weighed at the confidence the bot answered with: the one stored with
    the answer, whatever the knowledge base says of the question since."""
    async with aiohttp.ClientSession() as session:
        customer = Customer(session, server)
        await customer.start()
        await customer.say("Hi! I ordered a lamp on Monday. How long does delivery take?")
        assert (await customer.next_event("answer", "escalated"))["type"] == "answer"
        await customer.say("can I talk to a person please")
        assert (await customer.next_event("answer", "escalated"))["type"] == "escalated"
        conversation = customer.id
    answer = await services.store.latest_answer(conversation)
    assert answer is not None and answer.article_id == "delivery" and answer.verdict is None
    await _tag_every_escalation(server, "returns")
    corrected = [o for o in await services.learning.outcomes() if o.source == "agent_corrected"]
    assert [(o.article_id, o.correct) for o in corrected] == [("delivery", False)]
    assert corrected[0].confidence == answer.confidence
    judged = await services.store.latest_answer(conversation)
    assert judged is not None and (judged.id, judged.verdict) == (answer.id, "agent_corrected")


async def test_a_rejection_is_void_when_the_agent_tags_the_article_answered_with(
    server: TestServer, services: Services
) -> None:
    """The customer said the delivery answer did not help; the agent, reading the case, tags
    Delivery: the answer was right (they wanted something the article does not say, or a
    person), so it is not counted wrong, and stays out of the estimate's raising."""
    async with aiohttp.ClientSession() as session:
        await _answer_then(session, server, "that didn't help")
        rejected = await estimate(
            services.learning, services.knowledge_base, services.settings.learning
        )
        assert (rejected.rejected, rejected.answers) == (1, 1)
        await _tag_every_escalation(server, "delivery")
    live = await estimate(services.learning, services.knowledge_base, services.settings.learning)
    assert (live.rejected, live.answers, live.labelled) == (0, 1, 1)
    [answer] = await services.learning.answers(10)
    assert answer.verdict == "agent_confirmed"
    sources = sorted(o.source for o in await services.learning.outcomes())
    assert sources == ["agent_tag", "customer_rejected"], "no correction"


async def _reviewer(server: TestServer) -> aiohttp.ClientSession:
    agent = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    status, _ = await desk(
        agent, server, "POST", "/login", username="alice", password="secret-pass"
    )
    assert status == 200
    return agent


async def test_agents_review_a_random_sample_of_answers_and_a_failing_bot_is_raised(
    server: TestServer, services: Services
) -> None:
    """Nobody complained, yet every answer was wrong: only a review of answers drawn at random
    shows it. Five answers reviewed wrong raise the threshold at once; /metrics shows the
    reviewed precision; a reviewed answer is not drawn again."""
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            await _answer_then(session, server, "")
    async with await _reviewer(server) as agent:
        status, drawn = await desk(agent, server, "GET", "/reviews?limit=10")
        assert status == 200 and len(drawn["answers"]) == 5
        first = drawn["answers"][0]
        assert first["question"] == "How long does delivery take?"
        assert (first["article_id"], first["title"]) == ("delivery", "Delivery times")
        assert "3 to 5 working days" in first["answer"]
        choices = [c["id"] for c in first["choices"]]
        assert set(choices) == set(ARTICLES) - {"delivery"}, "any other article can be named"
        for shown in drawn["answers"]:
            status, body = await desk(agent, server, "POST", f"/reviews/{shown['id']}", right=False)
            assert (status, body) == (200, {"status": "reviewed", "right": False})
        assert services.knowledge_base.live_threshold == 1.0, "raised at the last review"
        _, again = await desk(agent, server, "GET", "/reviews")
        assert again["answers"] == []
    async with aiohttp.ClientSession() as session:
        assert (await _ask(session, server, "How long does delivery take?"))["type"] == "escalated"
        async with session.get(server.make_url("/metrics")) as response:
            shown_metrics = await response.text()
    assert "tandem_live_reviewed_answers 5.0" in shown_metrics
    assert "tandem_live_reviewed_precision 0.0" in shown_metrics


async def test_answers_reviewed_right_void_a_rejection_and_leave_the_threshold(
    server: TestServer, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        await _answer_then(session, server, "that didn't help")
        for _ in range(4):
            await _answer_then(session, server, "")
    async with await _reviewer(server) as agent:
        _, drawn = await desk(agent, server, "GET", "/reviews?limit=10")
        for shown in drawn["answers"]:
            status, _ = await desk(agent, server, "POST", f"/reviews/{shown['id']}", right=True)
            assert status == 200
    live = await estimate(services.learning, services.knowledge_base, services.settings.learning)
    assert (live.reviewed, live.reviewed_precision, live.rejected) == (5, 1.0, 0)
    assert live.threshold is None and services.knowledge_base.live_threshold is None


async def test_a_wrong_answer_reviewed_with_its_article_teaches_the_question(
    server: TestServer, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        await _answer_then(session, server, "")
    async with await _reviewer(server) as agent:
        _, drawn = await desk(agent, server, "GET", "/reviews")
        answer_id = drawn["answers"][0]["id"]
        path = f"/reviews/{answer_id}"
        status, body = await desk(agent, server, "POST", path, right=False, article_id="nope")
        assert (status, body["error"]["code"]) == (422, "unknown_article")
        status, body = await desk(agent, server, "POST", path, right=False, article_id="delivery")
        assert (status, body["error"]["code"]) == (422, "invalid_article_id"), "answered with"
        status, body = await desk(agent, server, "POST", path, right=True, article_id="returns")
        assert (status, body["error"]["code"]) == (422, "invalid_article_id"), "right: no other"
        status, _ = await desk(agent, server, "POST", path, right=False, article_id="returns")
        assert status == 200
        status, body = await desk(agent, server, "POST", path, right=False, article_id="hours")
        assert (status, body["error"]["code"]) == (409, "already_reviewed")
        status, body = await desk(agent, server, "POST", path, right=True)
        assert (status, body["error"]["code"]) == (409, "already_reviewed")
        [answer] = await services.learning.answers(10)
        assert answer.review == "wrong", "the first review holds"
        _, pending = await desk(agent, server, "GET", "/suggestions")
        [suggestion] = pending["suggestions"]
        assert (suggestion["kind"], suggestion["article_id"], suggestion["question"]) == (
            "variant",
            "returns",
            "How long does delivery take?",
        )


async def test_bad_reviews_are_refused_and_change_nothing(
    server: TestServer, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        await _answer_then(session, server, "")
        status, _ = await desk(session, server, "GET", "/reviews")
        assert status == 401, "agents only"
    async with await _reviewer(server) as agent:
        _, drawn = await desk(agent, server, "GET", "/reviews")
        path = f"/reviews/{drawn['answers'][0]['id']}"
        status, body = await desk(agent, server, "POST", path, right="yes")
        assert (status, body["error"]["code"]) == (422, "invalid_right")
        status, body = await desk(agent, server, "POST", path)
        assert (status, body["error"]["code"]) == (422, "invalid_right")
        status, body = await desk(agent, server, "POST", "/reviews/99999", right=True)
        assert (status, body["error"]["code"]) == (404, "not_found")
        status, body = await desk(agent, server, "GET", "/reviews?limit=many")
        assert status == 400, body
        assert body["error"]["message"] == "'limit' must be a whole number from 1 to 50"
    [answer] = await services.learning.answers(10)
    assert answer.review is None

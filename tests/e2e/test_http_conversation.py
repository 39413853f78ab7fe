"""A scripted conversation over real HTTP and WebSockets: answer, escalate, approve through the
desk API, take over, hand back, resolve."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer

from integrations.composition import Services
from integrations.web.app import create_app
from tests.conftest import add_agent


@pytest_asyncio.fixture()
async def server(services: Services) -> AsyncIterator[TestServer]:
    await add_agent(services.store, "alice")
    async with TestServer(create_app(services.settings, services)) as test_server:
        yield test_server


class Customer:
    """A customer's client: posts messages and reads the WebSocket."""

    def __init__(self, session: aiohttp.ClientSession, server: TestServer) -> None:
        self.session, self.server = session, server
        self.id = self.token = ""
        self.socket: aiohttp.ClientWebSocketResponse | None = None

    async def start(self) -> None:
        async with self.session.post(self.server.make_url("/api/conversations")) as response:
            assert response.status == 201
            body = await response.json()
        self.id, self.token = body["id"], body["token"]
        self.socket = await self.session.ws_connect(
            self.server.make_url(f"/api/conversations/{self.id}/ws").with_query(token=self.token)
        )

    async def say(self, text: str) -> int:
        async with self.session.post(
            self.server.make_url(f"/api/conversations/{self.id}/messages"),
            json={"text": text},
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            assert response.status == 202, await response.text()
            return int((await response.json())["id"])

    async def next_event(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        """The next event of one of ``types`` (others, such as echoes and typing, pass by)."""
        assert self.socket is not None
        while True:
            event = await asyncio.wait_for(self.socket.receive_json(), timeout)
            if event["type"] in types:
                return event

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Events that arrive within ``seconds``, customer echoes and typing left out."""
        assert self.socket is not None
        seen = []
        try:
            while True:
                event = await asyncio.wait_for(self.socket.receive_json(), seconds)
                if event["type"] not in ("customer", "typing"):
                    seen.append(event)
        except TimeoutError:
            return seen


async def desk(
    session: aiohttp.ClientSession, server: TestServer, method: str, path: str, **body: Any
) -> tuple[int, dict[str, Any]]:
    async with session.request(
        method, server.make_url(f"/api/desk{path}"), json=body if method == "POST" else None
    ) as r:
        return r.status, await r.json()


async def test_scripted_conversation(server: TestServer, services: Services) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # the desk cookie, on 127.0.0.1
    async with aiohttp.ClientSession() as session, aiohttp.ClientSession(cookie_jar=jar) as agent:
        customer = Customer(session, server)
        await customer.start()

        # 1. an in-scope question gets an answer with sources
        await customer.say("How long do refunds take?")
        answer = await customer.next_event("answer")
        assert "3 working days" in answer["text"]
        assert answer["sources"][0]["title"] == "When will I get my refund?"
        assert not {"confidence", "draft", "score"} & set(answer)

        # 2. a frustrated follow-up escalates with a summary and a draft
        await customer.say("It's been two weeks!!! This is RIDICULOUS, the third time I ask!!")
        notice = await customer.next_event("escalated", "answer")
        assert notice["type"] == "escalated" and "person" in notice["text"]
        assert "minutes" in notice["text"]

        status, _ = await desk(agent, server, "GET", "/escalations")
        assert status == 401, "the desk needs a signed-in agent"
        status, login = await desk(
            agent, server, "POST", "/login", username="alice", password="secret-pass"
        )
        assert status == 200 and login["agent"]["name"] == "Alice"
        _, queue = await desk(agent, server, "GET", "/escalations")
        [item] = queue["escalations"]
        assert "frustration" in item["reasons"]
        _, card = await desk(agent, server, "GET", f"/escalations/{item['id']}")
        assert card["summary"]["sentiment"] == "negative" and card["draft"]
        assert card["transcript"][0]["text"] == "How long do refunds take?"

        # 3. the desk approves; the customer receives the text exactly once
        results = await asyncio.gather(
            *(
                desk(agent, server, "POST", f"/escalations/{item['id']}/actions", action="approve")
                for _ in range(2)
            )
        )
        assert sorted(r[1]["outcome"] for r in results) == ["done", "duplicate"]
        reply = await customer.next_event("agent_message")
        assert reply["text"] == card["draft"] and reply["author"] == "Alice"
        assert await customer.quiet() == [], "sent exactly once"

        # 4. take over: the bot stays silent
        status, taken = await desk(
            agent, server, "POST", f"/escalations/{item['id']}/actions", action="take_over"
        )
        assert status == 200 and taken["card"]["holder"] == "Alice"
        assert (await customer.next_event("agent_joined"))["text"].startswith("Alice")
        await customer.say("How long do refunds take?")
        assert await customer.quiet(1.5) == [], "no bot answer while an agent holds it"
        _, card = await desk(agent, server, "GET", f"/escalations/{item['id']}")
        assert any(m["kind"] == "suggestion" and m["internal"] for m in card["transcript"])
        for _ in range(2):  # a double click on the card the agent sees: one send
            await desk(
                agent,
                server,
                "POST",
                f"/escalations/{item['id']}/actions",
                action="send",
                text="Refunds take 3 working days once we receive the item.",
                version=card["draft_version"],
            )
        assert "3 working days" in (await customer.next_event("agent_message"))["text"]
        assert await customer.quiet() == [], "sent exactly once"

        # 5. hand back, then resolve
        await desk(agent, server, "POST", f"/escalations/{item['id']}/actions", action="hand_back")
        assert (await customer.next_event("handed_back"))["type"] == "handed_back"
        await desk(agent, server, "POST", f"/escalations/{item['id']}/actions", action="resolve")
        assert (await customer.next_event("resolved"))["type"] == "resolved"

        # a reconnect loses nothing: the history has it all, internal notes left out
        async with session.get(
            server.make_url(f"/api/conversations/{customer.id}/messages").with_query(after=0),
            headers={"Authorization": f"Bearer {customer.token}"},
        ) as response:
            kinds = [m["type"] for m in (await response.json())["messages"]]
        assert kinds == [
            "customer",
            "answer",
            "customer",
            "escalated",
            "agent_message",
            "agent_joined",
            "customer",
            "agent_message",
            "handed_back",
            "resolved",
        ]

        async with session.get(server.make_url("/metrics")) as response:
            metrics = await response.text()
        assert 'tandem_escalations_total{reason="frustration"} 1.0' in metrics
        assert 'tandem_agent_actions_total{action="approve",channel="desk"} 1.0' in metrics
        assert "tandem_time_to_first_agent_action_seconds_count 1.0" in metrics
        assert "tandem_answers_total 1.0" in metrics
        threshold = services.knowledge_base.threshold_in_force()
        assert f"tandem_answer_threshold {threshold}" in metrics
        reading = services.knowledge_base.traffic_reading
        assert f"tandem_traffic_window_questions {float(reading.questions)}" in metrics
        share = reading.out_of_scope_share
        assert f"tandem_traffic_out_of_scope_share {'NaN' if share is None else share}" in metrics


async def test_a_closing_in_the_customers_own_words_is_thanked_not_passed_on(
    server: TestServer,
) -> None:
    """After an answer, "found it in my account, thanks!" gets the bot's own line; thanks with
    a new problem in it, which the gratitude head also reads, still goes to a person."""
    async with aiohttp.ClientSession() as session:
        customer = Customer(session, server)
        await customer.start()
        await customer.say("How long do refunds take?")
        await customer.next_event("answer")
        await customer.say("ah ok, found it in my account, thanks!")
        said = await customer.next_event("courtesy", "escalated", "answer")
        assert said["type"] == "courtesy", said
        await customer.say("thanks, my parcel is missing")
        assert (await customer.next_event("courtesy", "escalated", "answer"))["type"] != "courtesy"


async def test_courtesy_and_a_reply_to_the_agent_over_http(server: TestServer) -> None:
    """ "hi" and "thanks" get the bot's own line, not a person; the customer's answer to the
    agent's question reaches the desk as a follow-up, ahead of a fresh case."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession() as session, aiohttp.ClientSession(cookie_jar=jar) as agent:
        customer, other = Customer(session, server), Customer(session, server)
        await customer.start()
        await other.start()
        await customer.say("hi")
        assert (await customer.next_event("courtesy", "escalated"))["type"] == "courtesy"
        await customer.say("Can a person check my parcel please?")
        await customer.next_event("escalated")
        await desk(agent, server, "POST", "/login", username="alice", password="secret-pass")
        _, queue = await desk(agent, server, "GET", "/escalations")
        [item] = queue["escalations"]
        status, done = await desk(
            agent,
            server,
            "POST",
            f"/escalations/{item['id']}/actions",
            action="approve",
            text="Sorry about that! Could you tell me your order number?",
        )
        assert status == 200 and done["outcome"] == "done"
        assert "order number" in (await customer.next_event("agent_message"))["text"]

        await other.say("what is your opinion on the moon landing?")
        await other.next_event("escalated")
        await customer.say("It's LK-48213")
        notice = await customer.next_event("escalated", "answer", "courtesy")
        assert notice["type"] == "escalated" and "passed this to our team" in notice["text"]
        _, queue = await desk(agent, server, "GET", "/escalations")
        first, second = queue["escalations"]
        assert first["reasons"] == ["wrote_back"], "the customer who waited once goes first"
        assert "wrote_back" not in second["reasons"]
        _, card = await desk(agent, server, "GET", f"/escalations/{first['id']}")
        assert card["wrote_back_to"] == "Alice"
        assert card["reason_labels"] == ["Customer wrote back to Alice"], "to the agent who asked"

        await customer.say("thanks!")  # while waiting: where they stand, as before
        assert (await customer.next_event("courtesy", "waiting"))["type"] == "waiting"
        async with session.get(server.make_url("/metrics")) as response:
            metrics = await response.text()
        assert 'tandem_courtesy_replies_total{said="greeting"} 1.0' in metrics
        assert 'tandem_escalations_total{reason="wrote_back"} 1.0' in metrics

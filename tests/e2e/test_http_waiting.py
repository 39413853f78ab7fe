"""Over real HTTP and WebSockets: a customer waiting for a person is answered or told where
they stand, the card the desk reads changes with what they say, and the desk's queue follows
priority."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer

from tests.e2e.test_http_conversation import Customer, desk, server  # noqa: F401 (fixture)


async def signed_in(agent: aiohttp.ClientSession, server: TestServer) -> None:  # noqa: F811
    status, _ = await desk(
        agent, server, "POST", "/login", username="alice", password="secret-pass"
    )
    assert status == 200


async def test_a_waiting_customer_is_answered_acknowledged_and_the_card_changes(
    server: TestServer,  # noqa: F811
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession() as session, aiohttp.ClientSession(cookie_jar=jar) as agent:
        customer = Customer(session, server)
        await customer.start()
        await customer.say("Do you sell spare parts for a 1970s tractor?")
        notice = await customer.next_event("escalated", "answer")
        assert notice["type"] == "escalated" and "in the queue" in notice["text"]
        await signed_in(agent, server)
        _, queue = await desk(agent, server, "GET", "/escalations")
        [item] = queue["escalations"]
        _, before = await desk(agent, server, "GET", f"/escalations/{item['id']}")

        # a routine question while waiting: answered with its source, the wait goes on
        await customer.say("What are your customer service opening hours?")
        answer = await customer.next_event("answer", "escalated")
        assert answer["type"] == "answer" and answer["sources"]
        assert "still reply" in (await customer.next_event("escalated"))["text"]

        # an angry request for a person: acknowledged, and the card's reasons and sentiment move
        await customer.say(
            "This is ridiculous!!! I've asked TWICE. Can I speak to an actual human being please"
        )
        ack = await customer.next_event("escalated", "answer")
        assert ack["type"] == "escalated" and "take over" in ack["text"]
        _, after = await desk(agent, server, "GET", f"/escalations/{item['id']}")
        assert {"human_request", "frustration"} <= set(after["reasons"]) - set(before["reasons"])
        assert after["summary"]["sentiment"] == "negative"
        assert after["summary"]["sentiment"] != before["summary"]["sentiment"]
        assert "actual human being" in after["transcript"][-2]["text"]
        assert after["queue_position"] == 1 and after["wait_minutes"] == 0


async def test_the_desk_queue_follows_priority(server: TestServer) -> None:  # noqa: F811
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession() as session, aiohttp.ClientSession(cookie_jar=jar) as agent:
        calm, angry = Customer(session, server), Customer(session, server)
        for customer, text in (
            (calm, "Do you sell spare parts for a 1970s tractor?"),
            (angry, "Third time asking!!! Useless!! I'm calling my lawyer, get me a person NOW"),
        ):
            await customer.start()
            await customer.say(text)
            await customer.next_event("escalated")
        await signed_in(agent, server)
        _, queue = await desk(agent, server, "GET", "/escalations")
        ordered = [e["conversation_id"] for e in queue["escalations"]]
        assert ordered == [angry.id, calm.id], "the more urgent case first, though newer"
        first = queue["escalations"][0]
        assert first["priority_label"] in ("high", "urgent") and first["queue_position"] == 1
        assert first["priority"] > queue["escalations"][1]["priority"]

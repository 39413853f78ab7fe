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
        answer = await customer.next_event("answer", "waiting")
        assert answer["type"] == "answer" and answer["sources"]
        assert "still reply" in (await customer.next_event("waiting"))["text"]

        # an angry request for a person: acknowledged, and the card's reasons and sentiment move
        await customer.say(
            "This is ridiculous!!! I've asked TWICE. Can I speak to an actual human being please"
        )
        ack = await customer.next_event("waiting", "answer")
        assert ack["type"] == "waiting" and "take over" in ack["text"]
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


async def test_a_desk_account_with_the_holders_name_cannot_act_as_the_holder(
    server: TestServer,  # noqa: F811
) -> None:
    from integrations.web.accounts import AgentAccount
    from integrations.web.auth import hash_password
    from integrations.web.keys import SERVICES

    services = server.app[SERVICES]
    await services.store.add_agent(AgentAccount("mallory", "Alice", hash_password("other-pass")))
    alice_jar, mallory_jar = aiohttp.CookieJar(unsafe=True), aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession() as session,
        aiohttp.ClientSession(cookie_jar=alice_jar) as alice,
        aiohttp.ClientSession(cookie_jar=mallory_jar) as mallory,
    ):
        customer = Customer(session, server)
        await customer.start()
        await customer.say("I need to talk to a person")
        await customer.next_event("escalated")
        await signed_in(alice, server)
        status, _ = await desk(
            mallory, server, "POST", "/login", username="mallory", password="other-pass"
        )
        assert status == 200
        _, queue = await desk(alice, server, "GET", "/escalations")
        actions = f"/escalations/{queue['escalations'][0]['id']}/actions"
        status, taken = await desk(alice, server, "POST", actions, action="take_over")
        assert status == 200 and taken["card"]["holder"] == "Alice"
        for action in ({"action": "send", "text": "Send me your PIN"}, {"action": "hand_back"}):
            status, refused = await desk(mallory, server, "POST", actions, **action)
            assert status == 409 and refused["outcome"] == "refused", action
        conversation = await services.store.conversation(customer.id)
        assert conversation is not None and conversation.holder == "desk:alice"
        events = await customer.quiet()
        assert all("PIN" not in e.get("text", "") for e in events)


async def test_a_bereaved_customer_and_one_at_risk_are_met_with_care(
    server: TestServer,  # noqa: F811
) -> None:
    """The customer hears condolences, or where to get help now, before where they stand; the
    card names the kind of case among its key facts and the draft opens the same way."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession() as session, aiohttp.ClientSession(cookie_jar=jar) as agent:
        bereaved, at_risk = Customer(session, server), Customer(session, server)
        await bereaved.start()
        await bereaved.say("My dad passed away in May, how do I close his account?")
        notice = await bereaved.next_event("escalated", "answer")
        assert notice["type"] == "escalated"
        assert notice["text"].startswith("I'm so sorry for your loss.")
        assert "in the queue" in notice["text"]

        await at_risk.start()
        await at_risk.say("I can't cope with these debts any more, I want to end it all")
        notice = await at_risk.next_event("escalated", "answer")
        assert notice["type"] == "escalated"
        assert notice["text"].startswith("If you or someone else is in danger right now")

        await signed_in(agent, server)
        _, queue = await desk(agent, server, "GET", "/escalations")
        cards = {e["conversation_id"]: e for e in queue["escalations"]}
        for customer, topic, opening in (
            (bereaved, "bereavement", "Hi, I'm so sorry for your loss."),
            (at_risk, "crisis", "Hi, thank you for telling us."),
        ):
            _, card = await desk(agent, server, "GET", f"/escalations/{cards[customer.id]['id']}")
            assert "sensitive" in card["reasons"]
            assert f"Sensitive: {topic}" in card["summary"]["key_facts"]
            assert card["draft"].startswith(opening)

        # While waiting: a detail keeps the topic on the card; the line comes first again when
        # the customer says it again.
        await bereaved.say("it is about his sofa, order LK-20418")
        ack = await bereaved.next_event("waiting")
        assert not ack["text"].startswith("I'm so sorry")
        _, card = await desk(agent, server, "GET", f"/escalations/{cards[bereaved.id]['id']}")
        assert "LK-20418" in card["transcript"][-2]["text"]
        assert card["summary"]["key_facts"][:3] == [
            "Sensitive: bereavement",
            "Sensitive: cancellation",  # "how do I close his account?"
            "Order LK-20418",
        ]
        await at_risk.say("please, is anyone there, I don't want to be here anymore")
        ack = await at_risk.next_event("waiting")
        assert ack["text"].startswith("If you or someone else is in danger right now")

"""Teams end to end over HTTP: install in the agent team, a Web Chat customer escalates, the
Adaptive Card is posted, Send draft reaches the customer once, take over and relay, and JWT
auth when an app id is set."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema

from bot.conversation import EscalationStatus
from integrations.storage.posts import PostStore
from knowledge.base import KnowledgeBase
from tests.conftest import REPO, eventually, running
from tests.fakes.bot_connector import Sent
from tests.integrations.teams.conftest import AGENTS, CUSTOMER, BotSide, fixture, teams_settings

SCHEMA = json.loads((REPO.parent / "shared" / "schemas" / "adaptive-card-1.5.json").read_text())


def texts_to_customer(sent: list[Sent]) -> list[str]:
    return [s.activity.get("text", "") for s in sent if s.conversation == CUSTOMER]


def card_click(
    bot: BotSide,
    card_id: str,
    escalation_id: str,
    verb: str,
    *,
    user: str = "Alice",
    draft: str = "",
) -> dict[str, Any]:
    """Alice clicks one of the card's buttons (an ``Action.Execute`` invoke)."""
    return fixture(
        "card_action_invoke.json",
        service_url=bot.connector.url,
        id="i1",
        user=user,
        card_id=card_id,
        verb=verb,
        escalation_id=escalation_id,
        draft=draft,
    )


async def install_and_escalate(bot: BotSide) -> tuple[str, str]:
    """Returns the card's activity id and the escalation id."""
    url = bot.connector.url
    status, _ = await bot.post(fixture("installation_update.json", service_url=url))
    assert status in (200, 201)
    status, _ = await bot.post(
        fixture(
            "webchat_message.json",
            service_url=url,
            id="m1",
            text="I want to talk to a human about my order",
        )
    )
    assert status in (200, 201), "acknowledged at once; the answer follows proactively"
    sent = await bot.connector.wait(lambda s: any(x.conversation == AGENTS for x in s))
    card_post = next(s for s in sent if s.conversation == AGENTS)
    card = card_post.activity["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    jsonschema.Draft6Validator(SCHEMA).validate(card["content"])
    card_id = f"activity-{1 + bot.connector.sent.index(card_post)}"
    escalations = await bot.services.store.escalations([EscalationStatus.OPEN])
    posts = PostStore(bot.services.store, "teams")

    async def recorded() -> bool:  # the relay stores the card's id once the post returns
        post = await posts.of(escalations[0].id)
        return post is not None and post.ref is not None

    await eventually(recorded, "the card's id recorded")
    return card_id, escalations[0].id


async def test_customer_escalates_and_the_card_is_posted(bot: BotSide) -> None:
    await install_and_escalate(bot)
    await bot.connector.wait(lambda s: texts_to_customer(s))
    assert "person from our team" in texts_to_customer(bot.connector.sent)[0]


async def test_a_greeting_gets_the_bots_line_and_no_card(bot: BotSide) -> None:
    url = bot.connector.url
    await bot.post(fixture("installation_update.json", service_url=url))
    status, _ = await bot.post(
        fixture("webchat_message.json", service_url=url, id="m1", text="hello there!")
    )
    assert status in (200, 201)
    await bot.connector.wait(lambda s: texts_to_customer(s))
    assert texts_to_customer(bot.connector.sent) == ["Hello! What can I help you with?"]
    assert not any(s.conversation == AGENTS for s in bot.connector.sent), "no card for hello"


async def test_send_draft_reaches_the_customer_once(bot: BotSide) -> None:
    card_id, escalation_id = await install_and_escalate(bot)
    invoke = card_click(
        bot, card_id, escalation_id, "approve", draft="Hello Jo, I am looking at your order now."
    )
    status, body = await bot.post(invoke)
    assert status == 200 and body["statusCode"] == 200
    refreshed = body["value"]
    jsonschema.Draft6Validator(SCHEMA).validate(refreshed)
    assert not any(b.get("type") == "Input.Text" for b in refreshed["body"]), "spent"
    assert "Alice (teams): send edited" in json.dumps(refreshed)
    status, _ = await bot.post({**invoke, "id": "i2"})  # a repeated invoke
    await bot.connector.wait(
        lambda s: "Hello Jo, I am looking at your order now." in " ".join(texts_to_customer(s))
    )
    agent_texts = [t for t in texts_to_customer(bot.connector.sent) if "Hello Jo" in t]
    assert agent_texts == ["**Alice:** Hello Jo, I am looking at your order now."]


async def test_a_double_click_on_send_edited_while_holding_sends_once(bot: BotSide) -> None:
    """Each click is its own activity, and the first send moves the draft on: the card's
    draft version in the action's data makes the second one the same send."""
    card_id, escalation_id = await install_and_escalate(bot)
    took = card_click(bot, card_id, escalation_id, "take_over")
    status, body = await bot.post(took)
    assert status == 200 and body["statusCode"] == 200
    [send] = [a for a in body["value"]["actions"] if a["verb"] == "send"]
    reply = "Refunds take 3 working days once the item is back with us."
    click = {**took, "value": {"action": {**send, "data": {**send["data"], "draft": reply}}}}
    for n in (2, 3):  # a double click: two activities with the card's same data
        status, body = await bot.post({**click, "id": f"i{n}"})
        assert status == 200 and body["statusCode"] == 200
    await bot.connector.wait(lambda s: any(reply in t for t in texts_to_customer(s)))
    await asyncio.sleep(0.3)  # a second send would follow at once
    assert [t for t in texts_to_customer(bot.connector.sent) if reply in t] == [
        f"**Alice:** {reply}"
    ]


async def test_take_over_relays_the_thread(bot: BotSide) -> None:
    card_id, escalation_id = await install_and_escalate(bot)
    url = bot.connector.url
    status, body = await bot.post(
        fixture(
            "card_action_invoke.json",
            service_url=url,
            id="i1",
            user="Alice",
            card_id=card_id,
            verb="take_over",
            escalation_id=escalation_id,
            draft="",
        )
    )
    assert body["statusCode"] == 200
    thread = f"{AGENTS};messageid={card_id}"
    for n, (user, text) in enumerate(
        [
            ("Alice", "Hi Jo, Alice here."),
            ("Alice", "note: VIP customer"),
            ("Bob", "I could help too"),
        ]
    ):
        await bot.post(
            fixture(
                "agent_channel_message.json",
                service_url=url,
                id=f"t{n}",
                user=user,
                aad=f"aad-{user}",
                conversation=thread,
                text=text,
            )
        )
    await bot.connector.wait(lambda s: any("Alice here" in t for t in texts_to_customer(s)))
    customer_texts = " ".join(texts_to_customer(bot.connector.sent))
    assert "VIP" not in customer_texts and "help too" not in customer_texts
    # the customer's next message shows in the thread with live assist, marked internal
    await bot.post(
        fixture("webchat_message.json", service_url=url, id="m2", text="How long do refunds take?")
    )
    sent = await bot.connector.wait(
        lambda s: sum(1 for x in s if x.conversation == thread and x.method == "POST") >= 2
    )
    in_thread = [
        x.activity.get("text", "") for x in sent if x.conversation == thread and x.method == "POST"
    ]
    assert any(t.startswith("**Customer:** How long do refunds take?") for t in in_thread)
    assert any("Assist (internal" in t for t in in_thread)
    assert not any("3 working days" in t for t in texts_to_customer(bot.connector.sent)), (
        "the bot stays silent while Alice holds it"
    )


async def test_admin_commands_in_teams(bot: BotSide) -> None:
    # stats for an admin only; every command the help lists works; an unknown one says so
    for n, (aad, text, expected) in enumerate(
        (
            ("aad-admin", "kb stats", "Knowledge base"),
            ("aad-someone", "kb stats", "Not allowed"),
            ("aad-admin", "kb list", "articles"),
            ("aad-admin", "kb show opening-hours", "Article opening-hours"),
            ("aad-admin", "kb lsit", "Unknown"),
        )
    ):
        await bot.post(
            fixture(
                "agent_channel_message.json",
                service_url=bot.connector.url,
                id=f"k-{n}",
                user="X",
                aad=aad,
                conversation=AGENTS,
                text=text,
            )
        )
        sent = await bot.connector.wait(
            lambda s, e=expected: any(e in json.dumps(x.activity) for x in s)
        )
        reply = next(x for x in sent if expected in json.dumps(x.activity))
        jsonschema.Draft6Validator(SCHEMA).validate(reply.activity["attachments"][0]["content"])


async def test_with_an_app_id_a_request_without_a_token_is_refused(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    settings = teams_settings(tmp_path, app_id="00000000-0000-0000-0000-0000000000aa")
    async with running(settings, sample_kb) as (server, services):
        activity = fixture(
            "webchat_message.json", service_url="http://127.0.0.1:9/", id="x", text="hello"
        )
        async with aiohttp.ClientSession() as session:
            async with session.post(server.make_url("/api/messages"), json=activity) as r:
                assert r.status == 401
        assert await services.store.count("messages") == 0, "nothing was processed"


async def test_with_an_app_id_a_forged_or_malformed_token_is_a_401(
    tmp_path: Path, sample_kb: KnowledgeBase
) -> None:
    settings = teams_settings(tmp_path, app_id="00000000-0000-0000-0000-0000000000aa")
    async with running(settings, sample_kb) as (server, services):
        activity = fixture(
            "webchat_message.json", service_url="http://127.0.0.1:9/", id="y", text="hello"
        )
        forged = (
            "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZvcmdlZCJ9."
            "eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIn0.c2lnbmF0dXJl"
        )
        async with aiohttp.ClientSession() as session:
            for token in ("not-a-jwt", "a.b.c", forged):
                headers = {"Authorization": f"Bearer {token}"}
                async with session.post(
                    server.make_url("/api/messages"), json=activity, headers=headers
                ) as r:
                    assert r.status == 401, token
                    assert (await r.json())["error"]["code"] == "unauthorized"
        assert await services.store.count("messages") == 0, "nothing was processed"

"""Slack end to end: a customer escalates, the card is posted to the routed channel, agents act
with signed payloads, the thread relays the take-over, and /kb serves admins only."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.conversation import Kind
from integrations.storage.posts import PostStore
from tests.conftest import eventually
from tests.integrations.slack.conftest import ADMINS, LEGAL, PAYMENTS, SUPPORT, SlackSide, fixture


async def escalate(slack: SlackSide, text: str) -> tuple[str, str]:
    """A customer message that escalates; returns (conversation id, escalation id)."""
    engine = slack.services.engine
    conversation, _ = await engine.start("web")
    await engine.handle(await engine.receive(conversation.id, text))
    escalation = await slack.services.store.active_escalation(conversation.id)
    assert escalation is not None
    return conversation.id, escalation.id


def button(ts: str, action_id: str, escalation_id: str) -> dict[str, Any]:
    """A click on one of the card's buttons in the support channel."""
    return fixture(
        "block_actions.json",
        ts=ts,
        channel=SUPPORT,
        action_id=action_id,
        escalation_id=escalation_id,
    )


async def card_ts(slack: SlackSide, escalation_id: str) -> str:
    posts = PostStore(slack.services.store, "slack")

    async def posted() -> bool:
        found = await posts.of(escalation_id)
        return found is not None and found.ref is not None

    await eventually(posted, "the card to be posted")
    found = await posts.of(escalation_id)
    assert found is not None and found.ref is not None
    return found.ref


async def customer_kinds(slack: SlackSide, conversation_id: str) -> list[Kind]:
    return [m.kind for m in await slack.services.store.messages(conversation_id)]


async def until_customer_gets(slack: SlackSide, conversation_id: str, kind: Kind) -> None:
    async def arrived() -> bool:
        return kind in await customer_kinds(slack, conversation_id)

    await eventually(arrived, f"a {kind.value} message for the customer")


async def test_card_is_posted_to_the_routed_channel(slack: SlackSide) -> None:
    await escalate(slack, "I need to talk to a person")
    await escalate(slack, "I will sue you, my lawyer is on it")
    await escalate(slack, "Let me talk to a person, my card payment keeps getting declined")
    posts = await slack.fake.wait_for("chat.postMessage", 3)
    channels = sorted(p["channel"] for p in posts)
    assert channels == sorted([SUPPORT, LEGAL, PAYMENTS]), "by reason, and by article tag"
    blocks = posts[0]["blocks"]
    assert blocks[0]["type"] == "header"
    assert any(b["type"] == "input" for b in blocks), "the draft is editable"
    actions = next(b for b in blocks if b["type"] == "actions")
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Send draft",
        "Edit & send",
        "Take over",
        "Regenerate",
        "Hand back",
        "Resolve",
    ]


async def test_send_draft_reaches_the_customer_once_even_when_delivered_twice(
    slack: SlackSide,
) -> None:
    conversation_id, escalation_id = await escalate(slack, "Let me speak to a human please")
    ts = await card_ts(slack, escalation_id)
    payload = fixture(
        "block_actions.json",
        ts=ts,
        channel=SUPPORT,
        action_id="tandem_approve",
        escalation_id=escalation_id,
    )
    first = await slack.interaction(payload)
    again = await slack.interaction(payload, retry=1)
    assert (first.status, again.status) == (200, 200)
    await until_customer_gets(slack, conversation_id, Kind.AGENT_MESSAGE)
    await asyncio.sleep(0.3)  # room for a duplicate to show, if there were one
    kinds = await customer_kinds(slack, conversation_id)
    assert kinds.count(Kind.AGENT_MESSAGE) == 1
    sent = (await slack.services.store.messages(conversation_id))[-1]
    assert sent.author == "Alice", "the Slack display name signs the reply"
    updates = await slack.fake.wait_for("chat.update")
    last = updates[-1]["blocks"]
    assert not any(b["type"] == "input" for b in last), "spent: no draft box after sending"
    assert "Alice (slack): approve" in str(last[-1])


async def test_a_double_click_on_send_draft_while_holding_sends_once(slack: SlackSide) -> None:
    """Two clicks are two payloads, and the first send moves the draft on: the draft box's
    block id (the card's draft version) makes the second one the same send."""
    conversation_id, escalation_id = await escalate(slack, "Let me speak to a human please")
    ts = await card_ts(slack, escalation_id)
    take = button(ts, "tandem_take_over", escalation_id)
    assert (await slack.interaction(take)).status == 200
    await until_customer_gets(slack, conversation_id, Kind.AGENT_JOINED)
    escalation = await slack.services.store.escalation(escalation_id)
    assert escalation is not None
    reply = "Your order left the warehouse this morning."
    box = {"draft": {"type": "plain_text_input", "value": reply}}
    click = {
        **button(ts, "tandem_approve", escalation_id),
        "state": {"values": {f"draft:{escalation.draft_version}": box}},
    }
    for n in (1, 2):
        again = {**click, "actions": [{**click["actions"][0], "action_ts": f"170000000{n}.1"}]}
        assert (await slack.interaction(again)).status == 200
    await until_customer_gets(slack, conversation_id, Kind.AGENT_MESSAGE)
    await asyncio.sleep(0.3)  # room for a duplicate to show, if there were one
    sent = [m.text for m in await slack.services.store.messages(conversation_id)]
    assert sent.count(reply) == 1


async def test_take_over_and_relay_in_the_thread(slack: SlackSide) -> None:
    conversation_id, escalation_id = await escalate(slack, "I want a real person")
    ts = await card_ts(slack, escalation_id)
    take = button(ts, "tandem_take_over", escalation_id)
    assert (await slack.interaction(take)).status == 200
    await until_customer_gets(slack, conversation_id, Kind.AGENT_JOINED)

    def thread_reply(text: str, ts_: str, user: str = "U0AGENT01") -> dict[str, object]:
        event = fixture("message_event.json", channel=SUPPORT, text=text, ts=ts_, thread_ts=ts)
        event["event"]["user"] = user  # type: ignore[index]
        return event

    assert (
        await slack.event(thread_reply("Hi, Alice here. Checking now.", "1700000001.1"))
    ).status == 200
    await slack.event(thread_reply("note: customer sounds upset", "1700000001.2"))
    await slack.event(thread_reply("I can help too", "1700000001.3", user="U0AGENT02"))
    await slack.event(thread_reply("Hi, Alice here. Checking now.", "1700000001.1"), retry=1)

    async def settled() -> bool:  # all four deliveries handled (they run after the ack)
        audit = await slack.services.store.audit(conversation_id)
        return sum(a.action in ("send_edited", "note") for a in audit) >= 3

    await eventually(settled, "the four thread deliveries to be handled")
    await asyncio.sleep(0.3)  # room for a duplicate to show, if there were one
    public = await slack.services.store.messages(conversation_id)
    agent_texts = [m.text for m in public if m.kind is Kind.AGENT_MESSAGE]
    assert agent_texts == ["Hi, Alice here. Checking now."], "once; notes stay internal"
    internal = await slack.services.store.messages(conversation_id, internal=True)
    notes = [m.text for m in internal if m.kind is Kind.NOTE]
    assert sorted(notes) == ["I can help too", "customer sounds upset"]  # handled concurrently

    # the customer's next message appears in the thread, with live assist marked internal
    engine = slack.services.engine
    await engine.handle(await engine.receive(conversation_id, "How long do refunds take?"))
    posts = await slack.fake.wait_for("chat.postMessage", 3)
    thread = [p["text"] for p in posts if p.get("thread_ts") == ts]
    assert any(t.startswith("*Customer:* How long do refunds take?") for t in thread)
    assert any("Assist (internal, not sent to the customer)" in t for t in thread)


async def test_kb_command_is_for_admins(slack: SlackSide) -> None:
    refused = fixture("kb_command.json", user_id="U0RANDOM01", text="add")
    assert (await slack.command(refused)).status == 200
    [ephemeral] = await slack.fake.wait_for("chat.postEphemeral")
    assert ephemeral["text"] == "Not allowed" and ephemeral["channel"] == ADMINS
    assert slack.fake.of("views.open") == [], "nothing opened, nothing changed"

    search = fixture(
        "kb_command.json", user_id="U0ADMIN001", text="search how long do refunds take"
    )
    await slack.command(search)
    answers = await slack.fake.wait_for("chat.postEphemeral", 2)
    assert "When will I get my refund?" in str(answers[-1]["blocks"])
    await slack.command(fixture("kb_command.json", user_id="U0ADMIN001", text="add"))
    [modal] = await slack.fake.wait_for("views.open")
    assert modal["view"]["callback_id"] == "tandem_kb_add"
    # a slow command says it started before its answer (accepting refits the knowledge base)
    await slack.command(fixture("kb_command.json", user_id="U0ADMIN001", text="accept 99"))
    said = await slack.fake.wait_for("chat.postEphemeral", 4)
    assert [m["text"] for m in said[-2:]] == ["Working", "Not found"]
    assert "Accepting #99" in str(said[-2]["blocks"])


async def test_requests_must_be_signed_and_fresh(slack: SlackSide) -> None:
    body = fixture("kb_command.json", user_id="U0ADMIN001", text="stats")
    data = urlencode(body).encode()
    bad = await slack.send(data, "application/x-www-form-urlencoded", secret="wrong-secret")
    old = await slack.send(data, "application/x-www-form-urlencoded", timestamp=1_500_000_000)
    assert (bad.status, old.status) == (401, 401)
    await asyncio.sleep(0.2)
    assert slack.fake.of("chat.postEphemeral") == [], "nothing was processed"


async def test_a_failed_card_post_is_retried_and_counted(slack: SlackSide) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    slack.fake.fail_next("chat.postMessage", status=503)
    _, escalation_id = await escalate(slack, "I need a human agent")
    ts = await card_ts(slack, escalation_id)
    assert ts
    assert len(slack.fake.of("chat.postMessage")) == 3, "429 honoured, then the error retried"
    async with aiohttp.ClientSession() as session:
        async with session.get(slack.server.make_url("/metrics")) as response:
            metrics = await response.text()
    assert 'tandem_card_post_failures_total{channel="slack"} 1.0' in metrics


async def test_kb_answers_through_the_response_url_where_ephemerals_are_refused(
    slack: SlackSide,
) -> None:
    slack.fake.fail_next("chat.postEphemeral", error="channel_not_found")
    search = fixture("kb_command.json", user_id="U0ADMIN001", text="search refunds")
    search["channel_id"] = "D0DIRECT01"
    search["response_url"] = slack.fake.url_of("/api/response_url")
    assert (await slack.command(search)).status == 200
    [answer] = await slack.fake.wait_for("response_url")
    assert answer["response_type"] == "ephemeral" and answer["blocks"]


async def test_broadcast_and_file_replies_in_the_thread_reach_the_customer(
    slack: SlackSide,
) -> None:
    conversation_id, escalation_id = await escalate(slack, "I want a real person")
    ts = await card_ts(slack, escalation_id)
    take = button(ts, "tandem_take_over", escalation_id)
    await slack.interaction(take)
    await until_customer_gets(slack, conversation_id, Kind.AGENT_JOINED)

    def reply(text: str, ts_: str, subtype: str, **extra: object) -> dict[str, object]:
        event = fixture("message_event.json", channel=SUPPORT, text=text, ts=ts_, thread_ts=ts)
        event["event"].update(user="U0AGENT01", subtype=subtype, **extra)  # type: ignore[attr-defined]
        return event

    await slack.event(reply("Also for the channel", "1700000002.1", "thread_broadcast"))
    files = [{"id": "F1", "name": "label.pdf"}]
    await slack.event(reply("Here is the label", "1700000002.2", "file_share", files=files))
    await slack.event(reply("", "1700000002.3", "message_changed"))

    async def relayed() -> bool:
        public = await slack.services.store.messages(conversation_id)
        return sum(m.kind is Kind.AGENT_MESSAGE for m in public) >= 2

    await eventually(relayed, "both replies to reach the customer")
    public = await slack.services.store.messages(conversation_id)
    texts = [m.text for m in public if m.kind is Kind.AGENT_MESSAGE]
    assert sorted(texts) == [  # handled concurrently
        "Also for the channel",
        "Here is the label\n(the agent shared a file: label.pdf)",
    ]


async def test_a_customer_writing_back_reaches_the_agent_who_replied(slack: SlackSide) -> None:
    """The agent sent the draft from Slack; the customer's answer opens a new card that mentions
    them (it still waits in the queue for anyone)."""
    conversation_id, escalation_id = await escalate(slack, "Let me speak to a human please")
    ts = await card_ts(slack, escalation_id)
    approved = await slack.interaction(button(ts, "tandem_approve", escalation_id))
    assert approved.status == 200
    await until_customer_gets(slack, conversation_id, Kind.AGENT_MESSAGE)
    [reply] = [
        m
        for m in await slack.services.store.messages(conversation_id)
        if m.kind is Kind.AGENT_MESSAGE
    ]
    assert (reply.author, reply.author_id) == ("Alice", "slack:U0AGENT01")

    engine = slack.services.engine
    await engine.handle(await engine.receive(conversation_id, "the courier says it isn't there"))
    follow_up = await slack.services.store.active_escalation(conversation_id)
    assert follow_up is not None and "wrote_back" in follow_up.reasons
    await card_ts(slack, follow_up.id)
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    [card] = [p for p in posts if follow_up.id in str(p["blocks"])]
    intro = next(b["text"]["text"] for b in card["blocks"] if "*Reasons:*" in str(b))
    assert intro.startswith("<@U0AGENT01> ") and "Customer wrote back to Alice" in intro

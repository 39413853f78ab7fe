"""Slack while a customer waits: their messages update the card in place (reasons, sentiment,
the queue line) and appear in its thread, and an escalation nobody picks up is announced
again in the thread, broadcast to the channel with the agents' group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.conversation import Kind
from tests.conftest import eventually
from tests.integrations.slack.conftest import SUPPORT, SlackSide
from tests.integrations.slack.test_slack_flow import card_ts, escalate, until_customer_gets


async def test_a_customer_message_while_waiting_updates_the_card_in_place(
    slack: SlackSide,
) -> None:
    conversation_id, escalation_id = await escalate(
        slack, "What is the airspeed velocity of an unladen swallow?"
    )
    ts = await card_ts(slack, escalation_id)
    engine = slack.services.engine
    angry = "This is ridiculous!!! I've asked TWICE. Can I speak to an actual human being please"
    await engine.handle(await engine.receive(conversation_id, angry))
    await until_customer_gets(slack, conversation_id, Kind.WAITING)

    async def redrawn() -> bool:
        updates = [u for u in slack.fake.of("chat.update") if u["ts"] == ts]
        return bool(updates) and "Customer asked for a person" in str(updates[-1]["blocks"])

    await eventually(redrawn, "the card to be redrawn with the new reasons")
    last = [u for u in slack.fake.of("chat.update") if u["ts"] == ts][-1]
    text = str(last["blocks"])
    assert "Customer is frustrated" in text and "negative (rising)" in text
    assert "#1 in the queue" in text
    assert last["channel"] == SUPPORT, "updated in place: the same message, not a new card"
    thread = await slack.fake.wait_for("chat.postMessage", 2)
    assert any(p.get("thread_ts") == ts and "actual human being" in p["text"] for p in thread)


async def test_an_unclaimed_card_is_announced_again_with_the_group(slack: SlackSide) -> None:
    slack.services.settings.slack.mention_group = "S0AGENTS1"
    _, escalation_id = await escalate(slack, "I need to talk to a person")
    ts = await card_ts(slack, escalation_id)
    later = datetime.now(UTC) + timedelta(minutes=12)
    slack.services.engine.clock = lambda: later
    assert await slack.services.engine.reannounce_due() == 1

    def announcements() -> list[dict[str, object]]:
        return [
            p
            for p in slack.fake.of("chat.postMessage")
            if p.get("thread_ts") == ts and "Still waiting" in str(p.get("text"))
        ]

    async def announced() -> bool:
        return bool(announcements())

    await eventually(announced, "the re-announcement in the card's thread")
    [post] = announcements()
    assert str(post["text"]).startswith("<!subteam^S0AGENTS1>")
    assert post["reply_broadcast"] in (True, "true", "1")
    assert "priority" in str(post["text"])
    assert await slack.services.engine.reannounce_due() == 0


async def test_a_refused_card_redraw_and_thread_message_are_retried(slack: SlackSide) -> None:
    conversation_id, escalation_id = await escalate(slack, "I need a human agent please")
    ts = await card_ts(slack, escalation_id)
    slack.fake.fail_next("chat.update", status=503)
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=0)
    engine = slack.services.engine
    await engine.handle(await engine.receive(conversation_id, "My order number is LK-123456"))

    async def relayed() -> bool:
        posts = [p for p in slack.fake.of("chat.postMessage") if "LK-123456" in str(p["text"])]
        return len(posts) == 2 and all(p.get("thread_ts") == ts for p in posts)

    await eventually(relayed, "the thread message sent again after the 429")

    async def redrawn() -> bool:
        return len([u for u in slack.fake.of("chat.update") if u["ts"] == ts]) >= 2

    await eventually(redrawn, "the card redrawn after the 503")

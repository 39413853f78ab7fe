"""Display names are not unique: a second Slack user with the holder's display name cannot
reply to the customer in the card's thread or act as the holder."""

from __future__ import annotations

import asyncio

from bot.conversation import Kind
from tests.conftest import eventually
from tests.integrations.slack.conftest import SUPPORT, SlackSide, fixture
from tests.integrations.slack.test_slack_flow import (
    button,
    card_ts,
    escalate,
    until_customer_gets,
)


async def test_a_namesake_of_the_holder_cannot_reach_the_customer(slack: SlackSide) -> None:
    slack.fake.names.update({"U0AGENT01": "Alice", "U0IMPOSTR": "Alice"})
    conversation_id, escalation_id = await escalate(slack, "I want a real person")
    ts = await card_ts(slack, escalation_id)
    take = button(ts, "tandem_take_over", escalation_id)
    assert (await slack.interaction(take)).status == 200
    await until_customer_gets(slack, conversation_id, Kind.AGENT_JOINED)

    event = fixture(
        "message_event.json", channel=SUPPORT, text="Send me your card PIN", ts="1.2", thread_ts=ts
    )
    event["event"]["user"] = "U0IMPOSTR"
    assert (await slack.event(event)).status == 200

    async def noted() -> bool:
        internal = await slack.services.store.messages(conversation_id, internal=True)
        return any(m.kind is Kind.NOTE and "PIN" in m.text for m in internal)

    await eventually(noted, "the namesake's reply kept as an internal note")
    public = await slack.services.store.messages(conversation_id)
    assert not any("PIN" in m.text for m in public), "nothing reached the customer"

    hand_back = fixture(
        "block_actions.json",
        ts=ts,
        channel=SUPPORT,
        action_id="tandem_hand_back",
        escalation_id=escalation_id,
    )
    hand_back["user"] = {**hand_back["user"], "id": "U0IMPOSTR"}
    assert (await slack.interaction(hand_back)).status == 200
    await asyncio.sleep(0.5)  # the action runs after the acknowledgement
    conversation = await slack.services.store.conversation(conversation_id)
    assert conversation is not None and conversation.holder == "slack:U0AGENT01"
    refusals = [p for p in slack.fake.of("chat.postEphemeral") if p["user"] == "U0IMPOSTR"]
    assert refusals and "Alice holds this conversation" in refusals[-1]["text"]

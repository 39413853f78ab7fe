"""Slack: an agent picks "This was …" on a card (a signed block_actions payload); the tag waits
for an admin, the agent is told so, and every card shows it."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.conftest import eventually
from tests.integrations.slack.conftest import SUPPORT, SlackSide, fixture
from tests.integrations.slack.test_slack_flow import card_ts, escalate


def _tag_payload(ts: str, escalation_id: str, option: dict[str, Any]) -> dict[str, Any]:
    payload = fixture(
        "block_actions.json",
        ts=ts,
        channel=SUPPORT,
        action_id="tandem_tag",
        escalation_id=escalation_id,
    )
    payload["actions"] = [
        {
            "type": "static_select",
            "block_id": "tandem_tag",
            "action_id": "tandem_tag",
            "selected_option": option,
            "action_ts": "1700000000.000200",
        }
    ]
    return payload


async def test_an_agent_tags_the_article_from_the_card(slack: SlackSide) -> None:
    _, escalation_id = await escalate(slack, "Can a person look at my return, it's LK-483920")
    ts = await card_ts(slack, escalation_id)
    [post] = await slack.fake.wait_for("chat.postMessage")
    tag = next(b for b in post["blocks"] if b.get("block_id") == "tandem_tag")
    select = tag["accessory"]
    assert select["type"] == "static_select" and len(select["options"]) <= 100
    assert select["options"][-1]["text"]["text"] == "Not in the knowledge base"
    assert select["initial_option"] == select["options"][0], "the bot's guess is preselected"
    chosen = select["options"][1]
    article = chosen["value"].partition("|")[2]
    response = await slack.interaction(_tag_payload(ts, escalation_id, chosen))
    assert response.status == 200
    [told] = await slack.fake.wait_for("chat.postEphemeral")
    assert told["user"] == "U0AGENT01" and "admin will review" in told["text"]
    pending = await slack.services.store.suggestions("pending")
    assert [(s.kind, s.article_id, s.agent) for s in pending] == [
        ("variant", article, "U0AGENT01")
    ], "the Slack user id, not the display name, is who tagged"

    async def noted() -> bool:
        updates = slack.fake.of("chat.update")
        return any("Alice (slack): note" in str(u["blocks"]) for u in updates)

    await eventually(noted, "the card to show the tag, under the agent's name")
    redrawn = next(u for u in slack.fake.of("chat.update") if "(slack): note" in str(u["blocks"]))
    select = next(b for b in redrawn["blocks"] if b.get("block_id") == "tandem_tag")["accessory"]
    assert select["initial_option"] == chosen, "the card keeps the agent's choice"
    async with aiohttp.ClientSession() as session:
        async with session.get(slack.server.make_url("/metrics")) as metrics:
            shown = await metrics.text()
    assert "tandem_live_outcomes 1.0" in shown, "the tag is in the live estimate at once"

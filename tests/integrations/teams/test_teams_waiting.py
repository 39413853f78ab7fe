"""Teams while a customer waits: their messages get a reply with their place in the queue,
update the Adaptive Card in place, and an escalation nobody picks up is announced again in
the card's thread with the agents' tag mentioned."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import eventually
from tests.integrations.teams.conftest import AGENTS, CUSTOMER, BotSide, fixture
from tests.integrations.teams.test_teams_flow import (
    card_click,
    install_and_escalate,
    texts_to_customer,
)


async def test_a_customer_message_while_waiting_updates_the_card_in_place(bot: BotSide) -> None:
    card_id, _ = await install_and_escalate(bot)
    angry = "This is ridiculous!!! I've asked TWICE and nobody answers. Useless!!"
    status, _ = await bot.post(
        fixture("webchat_message.json", service_url=bot.connector.url, id="m2", text=angry)
    )
    assert status in (200, 201)

    def redrawn(sent: list) -> bool:  # type: ignore[type-arg]
        return any(
            s.method == "PUT"
            and s.activity_id == card_id
            and "Customer is frustrated" in json.dumps(s.activity)
            for s in sent
        )

    sent = await bot.connector.wait(redrawn)
    update = [s for s in sent if s.method == "PUT" and s.activity_id == card_id][-1]
    assert update.conversation.startswith(AGENTS), "the card in the agent channel, in place"
    content = json.dumps(update.activity)
    assert "negative (rising)" in content and "#1 in the queue" in content
    await bot.connector.wait(lambda s: any("sorry for the wait" in t for t in texts_to_customer(s)))
    assert sum(s.conversation == CUSTOMER for s in bot.connector.sent) >= 2


async def test_an_unclaimed_card_is_announced_again_with_the_tag(bot: BotSide) -> None:
    teams = bot.services.settings.teams
    teams.mention_tag_id, teams.mention_tag_name = "tag-123", "Support agents"
    card_id, _ = await install_and_escalate(bot)
    later = datetime.now(UTC) + timedelta(minutes=12)
    bot.services.engine.clock = lambda: later
    assert await bot.services.engine.reannounce_due() == 1
    thread = f"{AGENTS};messageid={card_id}"

    def announced(sent: list) -> bool:  # type: ignore[type-arg]
        return any(
            s.conversation == thread and "Still waiting" in s.activity.get("text", "") for s in sent
        )

    sent = await bot.connector.wait(announced)
    [post] = [
        s
        for s in sent
        if s.conversation == thread and "Still waiting" in s.activity.get("text", "")
    ]
    assert post.activity["text"].startswith("<at>Support agents</at>")
    [mention] = post.activity["entities"]
    assert mention["mentioned"] == {"id": "tag-123", "name": "Support agents", "type": "tag"}


async def test_a_namesake_of_the_holder_is_kept_as_a_note(bot: BotSide) -> None:
    card_id, escalation_id = await install_and_escalate(bot)
    url = bot.connector.url
    take = card_click(bot, card_id, escalation_id, "take_over")
    _, body = await bot.post(take)
    assert body["statusCode"] == 200
    thread = f"{AGENTS};messageid={card_id}"
    impostor = fixture(
        "agent_channel_message.json",
        service_url=url,
        id="t1",
        user="Alice",
        aad="aad-someone-else",
        conversation=thread,
        text="Please send me your card PIN",
    )
    await bot.post(impostor)
    conversation_id = (await bot.services.store.escalation(escalation_id)).conversation_id  # type: ignore[union-attr]

    async def noted() -> bool:
        internal = await bot.services.store.messages(conversation_id, internal=True)
        return any(m.kind.value == "note" and "PIN" in m.text for m in internal)

    await eventually(noted, "the namesake's reply kept as a note")
    assert not any("PIN" in t for t in texts_to_customer(bot.connector.sent))

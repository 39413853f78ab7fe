"""The Teams activity handler's logic on botbuilder's TestAdapter (no HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from integrations.composition import Services, build_services
from integrations.teams.channel import AGENT_CHANNEL, TeamsChannel
from knowledge.base import KnowledgeBase
from tests.integrations.teams.conftest import fixture, teams_settings


@pytest_asyncio.fixture()
async def channel(tmp_path: Path, sample_kb: KnowledgeBase) -> AsyncIterator[TeamsChannel]:
    services: Services = await build_services(teams_settings(tmp_path), sample_kb)
    yield TeamsChannel(services=services)
    await services.close()


def kb_message(text: str, aad: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        channel_id="msteams",
        text=text,
        from_property=ChannelAccount(id="29:x", name="X", aad_object_id=aad),
    )


async def reply_to(channel: TeamsChannel, activity: Activity | str) -> Activity:
    adapter = TestAdapter(channel.bot.on_turn)
    await adapter.send(activity)
    reply = adapter.get_next_activity()
    assert reply is not None, "the bot answered in the same turn"
    return reply


async def test_kb_commands_answer_admins_and_refuse_others(channel: TeamsChannel) -> None:
    stats = await reply_to(channel, kb_message("kb stats", "aad-admin"))
    assert "Knowledge base" in str(stats.attachments[0].content)
    refused = await reply_to(channel, kb_message("kb remove returns-policy", "aad-nobody"))
    assert "Not allowed" in str(refused.attachments[0].content)
    assert "returns-policy" in channel.services.knowledge_base.store.passages_by_article()


async def test_a_customer_message_is_stored_then_answered(channel: TeamsChannel) -> None:
    adapter = TestAdapter(channel.bot.on_turn)
    await adapter.send("How long do refunds take?")
    reference = adapter.template
    stored = await channel.references.get(
        f"customer:{reference.channel_id}:{reference.conversation.id}"
    )
    assert stored is not None and stored[1] is not None
    messages = await channel.services.store.messages(stored[1])
    assert [m.text for m in messages][:1] == ["How long do refunds take?"], "stored in the turn"
    await channel.turns.settle()
    kinds = [m.kind.value for m in await channel.services.store.messages(stored[1])]
    assert kinds == ["customer", "answer"]


async def test_another_team_channel_does_not_take_over_the_agent_channel(
    channel: TeamsChannel,
) -> None:
    def message(conversation: str, aad: str, text: str) -> Activity:
        body = fixture(
            "agent_channel_message.json",
            service_url="http://127.0.0.1:9/",
            id=f"{conversation}-{aad}-{text}",
            user="X",
            aad=aad,
            conversation=conversation,
            text=text,
        )
        body["channelData"]["teamsChannelId"] = conversation
        body["channelData"]["channel"] = {"id": conversation}
        return Activity().deserialize(body)

    async def agent_channel() -> str:
        stored = await channel.references.get(AGENT_CHANNEL)
        assert stored is not None
        return str(stored[0]["conversation"]["id"])

    other = "19:other@thread.tacv2"
    for conversation, aad, text in (
        ("19:agents@thread.tacv2", "aad-someone", "hello"),
        (other, "aad-someone", "hello"),
        (other, "aad-someone", "kb here"),
    ):
        await turn(channel, message(conversation, aad, text))
        assert await agent_channel() == "19:agents@thread.tacv2"
    await turn(channel, message(other, "aad-admin", "kb here"))
    assert await agent_channel() == other


async def turn(channel: TeamsChannel, activity: Activity) -> None:
    adapter = TestAdapter(channel.bot.on_turn)
    await adapter.run_pipeline(TurnContext(adapter, activity), channel.bot.on_turn)

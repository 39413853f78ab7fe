"""What reaches Bot Framework over a failing or slow connector: a card post and a customer's
replies are retried until they arrive (once, in order), and shutdown lets a reply under way
finish."""

from __future__ import annotations

import asyncio
import time

from integrations.web.app import TEAMS
from tests.fakes.bot_connector import FakeConnector, Sent
from tests.integrations.teams.conftest import AGENTS, CUSTOMER, BotSide, fixture
from tests.integrations.teams.test_teams_flow import install_and_escalate

HUMAN = "I want to talk to a human about my order"


def texts(sent: list[Sent]) -> list[str]:
    return [s.activity.get("text", "") for s in sent]


async def install(bot: BotSide) -> None:
    status, _ = await bot.post(fixture("installation_update.json", service_url=bot.connector.url))
    assert status in (200, 201)


async def customer_says(bot: BotSide, text: str, id: str = "m1") -> None:  # noqa: A002
    status, _ = await bot.post(
        fixture("webchat_message.json", service_url=bot.connector.url, id=id, text=text)
    )
    assert status in (200, 201)


async def test_a_card_post_the_connector_refuses_is_retried(bot: BotSide) -> None:
    await install(bot)
    bot.connector.fail_next(AGENTS, status=503, retry_after=0)
    await customer_says(bot, HUMAN)

    await bot.connector.until(lambda: len(bot.connector.delivered(AGENTS)) >= 1)
    attempts = bot.connector.to(AGENTS)
    assert [a.status for a in attempts] == [503, 200]
    assert attempts[0].activity["attachments"] == attempts[1].activity["attachments"], "same card"


async def test_replies_to_a_customer_are_retried_until_they_arrive_once_and_in_order(
    bot: BotSide,
) -> None:
    await install(bot)
    connector: FakeConnector = bot.connector
    connector.fail_next(CUSTOMER, status=429, retry_after=0)
    connector.fail_next(CUSTOMER, status=502)
    await customer_says(bot, "How long do refunds take?")
    await customer_says(bot, HUMAN, id="m2")

    await connector.until(
        lambda: any("person from our team" in t for t in texts(connector.delivered(CUSTOMER)))
    )
    delivered = texts(connector.delivered(CUSTOMER))
    assert [s.status for s in connector.to(CUSTOMER)][:2] == [429, 502]
    assert len(delivered) == 2, delivered
    assert "3 working days" in delivered[0], "the answer first, as the customer asked"
    assert "person from our team" in delivered[1]


async def test_shutdown_lets_a_reply_under_way_reach_the_customer(bot: BotSide) -> None:
    await install(bot)
    connector: FakeConnector = bot.connector
    release = connector.hold(CUSTOMER)
    await customer_says(bot, "How long do refunds take?")  # acknowledged; answered after

    channel = bot.server.app[TEAMS]
    asyncio.get_running_loop().call_later(0.5, release.set)
    started = time.monotonic()
    await channel.close()  # at once: the turn and its reply are both still under way

    assert time.monotonic() - started >= 0.4, "close waited for the reply"
    assert any("3 working days" in t for t in texts(connector.delivered(CUSTOMER)))


async def test_a_card_redraw_and_a_thread_message_the_connector_refuses_are_retried(
    bot: BotSide,
) -> None:
    card_id, _ = await install_and_escalate(bot)
    thread = f"{AGENTS};messageid={card_id}"
    bot.connector.fail_next(thread, method="PUT", status=503, retry_after=0)
    bot.connector.fail_next(thread, method="POST", status=502)
    await customer_says(bot, "Also, how long do refunds take?", id="m2")

    def relayed() -> bool:
        return any("how long do refunds take" in t for t in texts(bot.connector.delivered(thread)))

    await bot.connector.until(relayed)
    posts = [s for s in bot.connector.to(thread) if "how long do refunds" in s.activity["text"]]
    assert [s.status for s in posts] == [502, 200], "the same message, sent again"
    puts = [s.status for s in bot.connector.to(thread, method="PUT")]
    assert puts[0] == 503 and 200 in puts, "the card redrawn after all"

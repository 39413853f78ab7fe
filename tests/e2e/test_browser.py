"""A real browser (Debian's chromium through Playwright): a customer chats in the widget while
an agent signs in to the desk, edits the draft and sends it; the customer sees it once.
Screenshots land in ``artifacts/screenshots/``."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright, expect

from integrations.composition import Services
from integrations.web.app import create_app
from tests.conftest import REPO, add_agent

SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root in a container, without the network: no sandbox, no background connections.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest_asyncio.fixture()
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is missing: run scripts/system-deps.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture()
async def base_url(services: Services) -> AsyncIterator[str]:
    await add_agent(services.store, "alice")
    async with TestServer(create_app(services.settings, services)) as server:
        yield str(server.make_url("")).rstrip("/")


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_customer_and_agent_in_the_browser(browser: Browser, base_url: str) -> None:
    errors: list[str] = []
    customer = await (await browser.new_context()).new_page()
    customer.on("pageerror", lambda error: errors.append(str(error)))
    await customer.goto(base_url + "/")
    await customer.get_by_role("button", name="Chat with us").click()
    chat = customer.get_by_role("dialog", name="Customer support chat")
    await expect(chat).to_be_visible()

    box = chat.get_by_label("Your message")
    await box.fill("hi")
    await box.press("Enter")
    greeted = chat.locator("li[data-type=courtesy]")
    await expect(greeted).to_contain_text("What can I help you with?")
    await expect(greeted).to_contain_text("Assistant")
    await box.fill("How long do refunds take?")
    await box.press("Enter")
    answer = chat.locator("li[data-type=answer]")
    await expect(answer).to_contain_text("3 working days")
    await expect(answer.get_by_role("link", name="When will I get my refund?")).to_have_attribute(
        "href", "https://help.larkspur.example/refund-timing"
    )

    hostile = '<img src=x onerror="window.pwned=1">I want a person for order #LK-12345'
    await box.fill(hostile)
    await chat.get_by_role("button", name="Send").click()
    await expect(chat.locator("li[data-type=escalated]")).to_contain_text("person")
    await expect(chat.locator("li[data-type=customer]").last).to_contain_text("<img src=x")
    assert await chat.locator("img").count() == 0, "customer text is never parsed as HTML"
    await shot(customer, "1-customer-escalated")

    agent = await (await browser.new_context()).new_page()
    agent.on("pageerror", lambda error: errors.append(str(error)))
    await agent.goto(base_url + "/desk")
    await agent.get_by_label("Username").fill("alice")
    await agent.get_by_label("Password").fill("secret-pass")
    await agent.get_by_role("button", name="Sign in").click()
    queue = agent.get_by_role("navigation", name="Escalations")
    await queue.get_by_role("button").first.click()
    await expect(agent.locator("#card-summary")).to_contain_text("Order LK-12345")
    await expect(agent.locator("#card-reasons")).to_contain_text("Customer asked for a person")
    assert await agent.locator("#card-transcript img").count() == 0
    await shot(agent, "2-desk-card")

    edited = "Hi! I've checked order LK-12345: it ships today. Sorry for the wait."
    await agent.get_by_label("Draft reply").fill(edited)
    await agent.get_by_role("button", name="Send edited").click()
    await expect(agent.locator("#action-result")).to_have_text("Sent to the customer.")
    await shot(agent, "3-desk-sent")

    reply = chat.locator("li[data-type=agent_message]")
    await expect(reply).to_contain_text(edited)
    await expect(reply).to_have_count(1)
    assert await customer.evaluate("window.pwned === undefined")
    await shot(customer, "4-customer-received")
    assert errors == []

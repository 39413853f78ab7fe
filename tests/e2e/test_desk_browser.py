"""The desk and the widget in a real browser (Debian's chromium through Playwright): what an
agent sees and does on the desk reaches the customer exactly as meant (issue 11)."""

from __future__ import annotations

from playwright.async_api import Browser, Locator, Page, expect


async def customer_escalates(browser: Browser, base_url: str) -> tuple[Page, Locator]:
    """A customer opens the widget and asks for a person; returns the page and the chat."""
    page = await (await browser.new_context()).new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Customer support chat")
    box = chat.get_by_label("Your message")
    await box.fill("I want a person for order #LK-12345")
    await box.press("Enter")
    await expect(chat.locator("li[data-type=escalated]")).to_contain_text("person")
    return page, chat


async def agent_opens_card(browser: Browser, base_url: str) -> Page:
    """Alice signs in to the desk and opens the first escalation."""
    page = await (await browser.new_context()).new_page()
    await page.goto(base_url + "/desk")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill("secret-pass")
    await page.get_by_role("button", name="Sign in").click()
    queue = page.get_by_role("navigation", name="Escalations")
    await queue.get_by_role("button").first.click()
    await expect(page.locator("#card-summary")).to_contain_text("Order LK-12345")
    return page


async def test_send_draft_sends_the_agents_edit_once(browser: Browser, base_url: str) -> None:
    _, chat = await customer_escalates(browser, base_url)
    agent = await agent_opens_card(browser, base_url)
    edited = "Order LK-12345 left our warehouse this morning; it arrives tomorrow."
    await agent.get_by_label("Draft reply").fill(edited)
    await agent.get_by_role("button", name="Send draft").click()
    await expect(agent.locator("#action-result")).to_have_text("Sent to the customer.")

    reply = chat.locator("li[data-type=agent_message]")
    await expect(reply).to_have_count(1)
    await expect(reply.locator(".tandem-text")).to_have_text(edited)
    await agent.wait_for_timeout(300)  # nothing arrives twice
    await expect(reply).to_have_count(1)


async def test_customer_sees_the_agent_join_at_take_over(browser: Browser, base_url: str) -> None:
    _, chat = await customer_escalates(browser, base_url)
    agent = await agent_opens_card(browser, base_url)
    await agent.get_by_role("button", name="Take over").click()
    await expect(agent.locator("#card-state")).to_contain_text("held by Alice")

    joined = chat.locator("li[data-type=agent_joined]")
    await expect(joined).to_contain_text("Alice from our team has joined the conversation.")
    await expect(chat.locator("li[data-type=agent_message]")).to_have_count(0)


async def test_a_pushed_draft_never_overwrites_the_agents_text(
    browser: Browser, base_url: str
) -> None:
    _, chat = await customer_escalates(browser, base_url)
    agent = await agent_opens_card(browser, base_url)
    draft = agent.get_by_label("Draft reply")
    first = await draft.input_value()
    mine = "Let me check the courier's tracking for you."
    await draft.fill(mine)
    await agent.locator("#card-title").click()  # edited, then the focus moves away

    box = chat.get_by_label("Your message")
    await box.fill("Also, can I return the blue scarf from that order?")
    await box.press("Enter")
    await expect(agent.locator("#card-transcript")).to_contain_text("blue scarf")
    notice = agent.get_by_role("status").filter(has_text="A new draft is available")
    await expect(notice).to_be_visible()
    await expect(draft).to_have_value(mine)

    await draft.focus()  # typing on: the next draft is offered, not put in the box
    await draft.press("End")
    await draft.press_sequentially(" One moment")
    await box.fill("It is for a gift, by the way.")
    await box.press("Enter")
    await expect(agent.locator("#card-transcript")).to_contain_text("for a gift")
    await expect(draft).to_have_value(mine + " One moment")

    await notice.get_by_role("button", name="use it").click()
    await expect(notice).to_be_hidden()
    assert await draft.input_value() not in (first, mine + " One moment")

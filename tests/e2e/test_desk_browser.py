"""The desk and the widget in a real browser (Debian's chromium through Playwright): what an
agent sees and does on the desk reaches the customer exactly as meant (issue 11)."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, Dialog, Locator, Page, Route, expect


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


async def customer_asks(browser: Browser, base_url: str, question: str) -> Locator:
    """A customer opens the widget and asks ``question``; returns the chat."""
    page = await (await browser.new_context()).new_page()
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Customer support chat")
    await chat.get_by_label("Your message").fill(question)
    await chat.get_by_label("Your message").press("Enter")
    return chat


async def agent_signs_in(browser: Browser, base_url: str) -> Page:
    """Alice signs in to the desk."""
    page = await (await browser.new_context()).new_page()
    await page.goto(base_url + "/desk")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill("secret-pass")
    await page.get_by_role("button", name="Sign in").click()
    return page


async def agent_opens_card(browser: Browser, base_url: str) -> Page:
    """Alice signs in to the desk and opens the first escalation."""
    page = await agent_signs_in(browser, base_url)
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


async def test_resolving_with_a_promise_unkept_asks_first(browser: Browser, base_url: str) -> None:
    _, chat = await customer_escalates(browser, base_url)
    agent = await agent_opens_card(browser, base_url)
    promise = "I'll check with the warehouse and get back to you this afternoon."
    await agent.get_by_role("button", name="Take over").click()
    await expect(agent.locator("#card-state")).to_contain_text("held by Alice")
    await agent.get_by_label("Draft reply").fill(promise)
    await agent.get_by_role("button", name="Send edited").click()
    await expect(chat.locator("li[data-type=agent_message]")).to_contain_text("warehouse")

    asked: list[str] = []

    async def keep_open(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    agent.once("dialog", keep_open)
    await agent.get_by_role("button", name="Resolve").click()
    for _ in range(50):  # the handler runs as its own task
        if asked:
            break
        await agent.wait_for_timeout(100)
    assert len(asked) == 1
    assert asked[0].startswith("You told the customer you would come back to them")
    assert promise in asked[0]
    await agent.wait_for_timeout(300)  # kept open: nothing was sent
    await expect(agent.locator("#card-state")).to_contain_text("held by Alice")
    await expect(chat.locator("li[data-type=resolved]")).to_have_count(0)

    agent.once("dialog", lambda dialog: dialog.accept())
    await agent.get_by_role("button", name="Resolve").click()
    await expect(agent.locator("#action-result")).to_have_text("Resolved.")
    await expect(chat.locator("li[data-type=resolved]")).to_have_count(1)


CSP_WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


async def test_pages_run_under_their_policy_with_a_favicon(browser: Browser, base_url: str) -> None:
    context = await browser.new_context()
    await context.add_init_script(CSP_WATCH)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    for path in ("/", "/desk"):
        await page.goto(base_url + path)
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate("window.cspViolations") == [], path
        icon = await page.evaluate(
            "fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)"
        )
        assert icon == 200
    await page.goto(base_url + "/")
    await page.get_by_role("button", name="Chat with us").click()
    await expect(page.get_by_role("status")).to_have_text("Connected")
    assert await page.evaluate("getComputedStyle(document.body).maxWidth") == "640px"
    embed = page.locator("#embed")
    await expect(embed).to_have_text(f'<script src="{base_url}/static/widget.js" defer></script>')
    assert await page.evaluate("window.cspViolations") == []
    assert [m for m in console if "Content Security Policy" in m] == []


async def test_queue_by_priority_with_waits_and_closed_by_the_customer(
    browser: Browser, base_url: str
) -> None:
    await customer_escalates(browser, base_url)
    await customer_escalates(browser, base_url)
    agent = await (await browser.new_context()).new_page()
    extra = {  # what the card JSON carries once the engine ranks the queue
        0: {"priority": 0.2, "priority_label": "normal", "wait_minutes": 7, "queue_position": 2},
        1: {
            "priority": 0.9,
            "priority_label": "urgent",
            "wait_minutes": 3,
            "queue_position": 1,
            "closed_by": "customer",
        },
    }
    ids: list[str] = []

    async def ranked_queue(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        for index, escalation in enumerate(body["escalations"]):
            ids.append(escalation["id"])
            escalation.update(extra[index])
        await route.fulfill(response=response, json=body)

    async def ranked_card(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        if body.get("id") in ids:
            body.update(extra[ids.index(body["id"])])
        await route.fulfill(response=response, json=body)

    await agent.route("**/api/desk/escalations", ranked_queue)
    await agent.route(re.compile(r".*/api/desk/escalations/\w+$"), ranked_card)
    await agent.goto(base_url + "/desk")
    await agent.get_by_label("Username").fill("alice")
    await agent.get_by_label("Password").fill("secret-pass")
    await agent.get_by_role("button", name="Sign in").click()
    queue = agent.get_by_role("navigation", name="Escalations").locator("#queue li")
    await expect(queue).to_have_count(2)
    await expect(queue.nth(0)).to_contain_text("urgent")  # the newer one, ranked higher
    await expect(queue.nth(0)).to_contain_text("waiting 3 min")
    await expect(queue.nth(0)).to_contain_text("Closed by the customer")
    await expect(queue.nth(1)).to_contain_text("normal")
    await expect(queue.nth(1)).to_contain_text("waiting 7 min")
    await expect(queue.nth(1)).not_to_contain_text("Closed by the customer")

    await queue.nth(0).get_by_role("button").click()
    facts = agent.locator("#card-queue")
    await expect(facts).to_contain_text("Priority: urgent")
    await expect(facts).to_contain_text("waiting 3 min (#1 in the queue)")
    await expect(facts).to_contain_text("Closed by the customer")

    ordered = await agent.evaluate(
        """() => {
          const order = (list) => window.TandemDesk.ordered(list).map((e) => e.id);
          const at = (m) => "2024-05-01T10:0" + m + ":00+00:00";
          return [
            order([{id: "a", created_at: at(2)}, {id: "b", created_at: at(1)}]),
            order([{id: "a", priority: 1, created_at: at(2)},
                   {id: "b", priority: 1, created_at: at(1)},
                   {id: "c", priority: 2, created_at: at(3)}]),
            order([{id: "a", priority: 1, created_at: at(1), waiting_since: at(5)},
                   {id: "b", priority: 1, created_at: at(2), waiting_since: at(4)}]),
            window.TandemDesk.waitText({wait_minutes: 4, queue_position: null}),
            window.TandemDesk.waitText({}),
          ];
        }"""
    )
    assert ordered == [["a", "b"], ["c", "b", "a"], ["b", "a"], None, None]


async def test_an_agent_grades_the_answers_drawn_for_review(
    browser: Browser, base_url: str
) -> None:
    """The customer's question was answered; on the desk the agent grades every answer drawn
    at random, that one among them, until nothing is left to review."""
    chat = await customer_asks(browser, base_url, "How long do refunds take?")
    await expect(chat.locator("li[data-type=answer]")).to_contain_text("3 working days")

    agent = await agent_signs_in(browser, base_url)
    reviews = agent.locator("#reviews")
    graded: list[str] = []
    for _ in range(100):
        first = reviews.locator("li").first
        await expect(first).to_be_visible()
        if await first.get_attribute("data-id") is None:
            break
        await expect(first).to_contain_text("Answered with:")
        graded.append(await first.locator("strong").inner_text())
        answer_id = await first.get_attribute("data-id")
        await first.get_by_role("button", name="Right").click()
        await expect(reviews.locator(f"li[data-id='{answer_id}']")).to_have_count(0)
    await expect(reviews).to_have_text("Nothing to review.")
    assert "How long do refunds take?" in graded


async def test_an_agent_names_the_right_article_for_a_wrong_answer(
    browser: Browser, base_url: str
) -> None:
    """Graded wrong with the right article picked: the question waits as a suggested variant
    of that article among the knowledge suggestions."""
    question = "How long do refunds take to reach my card?"
    chat = await customer_asks(browser, base_url, question)
    await expect(chat.locator("li[data-type=answer]")).to_be_visible()

    agent = await agent_signs_in(browser, base_url)
    reviews = agent.locator("#reviews")
    mine = reviews.locator("li").filter(has_text=question)
    for _ in range(100):
        await expect(reviews.locator("li").first).to_be_visible()
        if await mine.count():
            break
        first = reviews.locator("li").first
        answer_id = await first.get_attribute("data-id")
        assert answer_id is not None, "the question's answer was drawn before the list ran out"
        await first.get_by_role("button", name="Right").click()
        await expect(reviews.locator(f"li[data-id='{answer_id}']")).to_have_count(0)
    picker = mine.get_by_label("The right article, if wrong")
    await picker.select_option(label="How long does delivery take?")
    await mine.get_by_role("button", name="Wrong").click()
    await expect(mine).to_have_count(0)
    await agent.reload()
    suggestions = agent.locator("#suggestions")
    await expect(suggestions).to_contain_text(question)

    # Another admin accepts it first; this page still offers it, and says what became of it.
    listed = await agent.evaluate("fetch('/api/desk/suggestions').then(r => r.json())")
    [taught] = [s for s in listed["suggestions"] if s["question"] == question]
    accepted = await agent.evaluate(
        f"fetch('/api/desk/suggestions/{taught['id']}/accept', "
        "{method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})"
        ".then(r => r.status)"
    )
    assert accepted == 200
    stale = suggestions.locator("li").filter(has_text=question)
    await stale.get_by_role("button", name="Accept into KB").click()
    await expect(agent.locator("#suggestions-note")).to_have_text(
        f"suggestion #{taught['id']} was already accepted (or is being accepted now)"
    )
    await expect(stale).to_have_count(0)


async def an_answer_drawn_for_review(browser: Browser, base_url: str) -> tuple[Page, Locator, str]:
    """A customer's question is answered; Alice signs in to the desk. Returns her page, the
    first answer drawn for review and its id."""
    chat = await customer_asks(browser, base_url, "How long do refunds take?")
    await expect(chat.locator("li[data-type=answer]")).to_be_visible()
    agent = await agent_signs_in(browser, base_url)
    first = agent.locator("#reviews li").first
    await expect(first).to_contain_text("Answered with:")
    answer_id = await first.get_attribute("data-id")
    assert answer_id is not None
    return agent, first, answer_id


async def test_an_answer_another_agent_graded_first_leaves_the_list(
    browser: Browser, base_url: str
) -> None:
    """Two agents drew the same answer; the other one graded it first. Grading it here is
    refused without an error to fix (the first review holds), and the answer leaves the list."""
    agent, first, answer_id = await an_answer_drawn_for_review(browser, base_url)
    other = await agent.context.request.post(
        f"{base_url}/api/desk/reviews/{answer_id}", data={"right": True}
    )
    assert other.status == 200
    await first.get_by_role("button", name="Wrong").click()
    await expect(agent.locator(f"#reviews li[data-id='{answer_id}']")).to_have_count(0)
    await expect(agent.locator("#reviews [role=alert]:visible")).to_have_count(0)
    await expect(agent.locator("#reviews-note")).to_contain_text("the first review holds")
    again = await agent.context.request.post(
        f"{base_url}/api/desk/reviews/{answer_id}", data={"right": False}
    )
    assert again.status == 409 and (await again.json())["error"]["code"] == "already_reviewed"


async def test_a_review_click_disables_both_buttons_until_it_is_answered(
    browser: Browser, base_url: str
) -> None:
    """A double click, or *Right* then *Wrong*, cannot send two reviews of one answer."""
    agent, first, answer_id = await an_answer_drawn_for_review(browser, base_url)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(route: Route) -> None:
        held.set()
        await release.wait()
        await route.continue_()

    await agent.route("**/api/desk/reviews/*", hold)
    await first.get_by_role("button", name="Right").click()
    await held.wait()
    await expect(first.get_by_role("button", name="Right")).to_be_disabled()
    await expect(first.get_by_role("button", name="Wrong")).to_be_disabled()
    release.set()
    await expect(agent.locator(f"#reviews li[data-id='{answer_id}']")).to_have_count(0)

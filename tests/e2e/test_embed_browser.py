"""The widget embedded on other sites, in a real browser (issue 12 items 16 and 19): a shop on
another origin chats through it; a page on an origin not allowed is refused; a widget pointed
at a closed port backs off; a 500-character word wraps in the widget and on the desk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from integrations.composition import Services
from integrations.web.app import STATIC, create_app
from tests.conftest import add_agent
from tests.e2e.processes import free_port
from tests.e2e.test_desk_browser import agent_opens_card, customer_escalates
from tests.web.test_cors import allowing

LONG_WORD = "x" * 500


@asynccontextmanager
async def shop(
    tandem: Callable[[], str], scripts: Callable[[], str] | None = None
) -> AsyncIterator[str]:
    """Another site (its own port, so its own origin) whose page embeds the widget with one tag
    pointing at ``tandem()`` (its files from ``scripts()``, else Tandem); yields the page's URL."""

    async def page(request: web.Request) -> web.Response:
        url = tandem()
        files = scripts() if scripts else url
        html = (
            "<!doctype html><html lang='en'><head><title>Shop</title></head><body>"
            "<h1>Larkspur shop</h1>"
            f"<script src='{files}/static/widget.js' data-tandem-url='{url}' defer></script>"
            "</body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    async with TestServer(app) as server:
        yield str(server.make_url("/"))


def origin(url: str) -> str:
    return url.rstrip("/")


async def open_chat(page: Page, url: str) -> None:
    await page.goto(url)
    await page.get_by_role("button", name="Chat with us").click()


async def test_a_shop_on_another_origin_chats_and_an_unknown_one_is_refused(
    browser: Browser, services: Services
) -> None:
    here: dict[str, str] = {}
    async with shop(lambda: here["tandem"]) as allowed, shop(lambda: here["tandem"]) as other:
        app = create_app(allowing(services.settings, origin(allowed)), services)
        async with TestServer(app) as tandem:
            here["tandem"] = str(tandem.make_url("")).rstrip("/")

            customer = await (await browser.new_context()).new_page()
            errors: list[str] = []
            customer.on("pageerror", lambda error: errors.append(str(error)))
            await open_chat(customer, allowed)
            chat = customer.get_by_role("dialog", name="Customer support chat")
            box = chat.get_by_label("Your message")
            await box.fill("How long do refunds take?")
            await box.press("Enter")
            await expect(chat.locator("li[data-type=answer]")).to_contain_text("3 working days")
            await expect(chat.locator(".tandem-status")).to_have_text("Connected")
            assert not errors

            stranger = await (await browser.new_context()).new_page()
            tries: list[str] = []
            stranger.on(
                "request",
                lambda request: (
                    tries.append(request.method) if "/api/conversations" in request.url else None
                ),
            )
            await open_chat(stranger, other)
            refused = stranger.get_by_role("dialog", name="Customer support chat")
            await expect(refused.locator(".tandem-status")).to_have_text(
                "Cannot reach support, retrying…"
            )
            blocked = await stranger.evaluate(
                """url => fetch(url + '/api/conversations', {method: 'POST',
                     headers: {'Content-Type': 'application/json'}, body: '{}'})
                   .then(() => 'read', () => 'blocked')""",
                here["tandem"],
            )
            assert blocked == "blocked"
            opened = await stranger.evaluate(
                """url => new Promise(done => {
                     const s = new WebSocket(url.replace('http', 'ws') +
                       '/api/conversations/x/ws?token=y');
                     s.onopen = () => done('open'); s.onerror = () => done('refused'); })""",
                here["tandem"],
            )
            assert opened == "refused"
            await stranger.wait_for_timeout(1500)
            assert len(tries) < 12, f"{len(tries)} requests: the refused widget backs off"


async def test_the_first_connect_backs_off_from_a_closed_port(browser: Browser) -> None:
    """The widget's files come from one server; ``data-tandem-url`` names a closed port. The
    widget used to retry at once, 1,390 to 2,448 requests in 8 s."""
    closed = f"http://127.0.0.1:{free_port()}"
    files = web.Application()
    files.router.add_static("/static/", STATIC)
    async with TestServer(files) as server:
        scripts = str(server.make_url("")).rstrip("/")
        async with shop(lambda: closed, scripts=lambda: scripts) as url:
            page = await (await browser.new_context()).new_page()
            attempts: list[str] = []
            page.on(
                "request",
                lambda request: (
                    attempts.append(request.url)
                    if request.url.startswith(closed + "/api/")
                    else None
                ),
            )
            await open_chat(page, url)
            await page.wait_for_timeout(4000)
    # Waits of 0.25-0.5, 0.5-1, 1-2 and 2-4 s: at most 5 tries in 4 s, at least 3.
    assert 3 <= len(attempts) <= 6, f"{len(attempts)} attempts in 4 s"


async def test_a_long_word_wraps_in_the_widget_and_on_the_desk(
    browser: Browser, services: Services
) -> None:
    await add_agent(services.store, "alice")
    async with TestServer(create_app(services.settings, services)) as server:
        base_url = str(server.make_url("")).rstrip("/")
        customer, chat = await customer_escalates(browser, base_url)
        box = chat.get_by_label("Your message")
        await box.fill(LONG_WORD)
        await box.press("Enter")
        await expect(chat.locator("li[data-type=customer]").last).to_contain_text(LONG_WORD)
        log = chat.get_by_role("log")
        widths = await log.evaluate("l => [l.scrollWidth, l.clientWidth]")
        assert widths[0] <= widths[1], f"the log scrolls sideways: {widths}"

        agent = await agent_opens_card(browser, base_url)
        await expect(agent.locator("#card-transcript")).to_contain_text(LONG_WORD)
        page_widths = await agent.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert page_widths[0] <= page_widths[1], f"the desk widens: {page_widths}"

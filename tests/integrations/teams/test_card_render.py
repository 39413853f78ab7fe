"""Every Adaptive Card we build validates against the 1.5 schema, and the ``adaptivecards``
renderer (npm) parses and renders it in headless Debian chromium without warnings; clicking
*Send draft* submits the edited draft."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import jsonschema
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from bot.conversation import State
from integrations.teams.cards import escalation_card, message_card
from tests.conftest import REPO
from tests.e2e.test_browser import CHROMIUM, FLAGS
from tests.integrations.slack.test_blocks import card

SCHEMA = json.loads((REPO.parent / "shared" / "schemas" / "adaptive-card-1.5.json").read_text())
RENDERER = (
    REPO / "tests" / "js" / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
)
RENDER = """
(payload) => {
  const card = new AdaptiveCards.AdaptiveCard();
  const context = new AdaptiveCards.SerializationContext();
  card.parse(payload, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i).message);
  for (const e of card.validateProperties().validationEvents) events.push(e.message);
  card.onExecuteAction = (action) => {
    window.executed = { type: action.getJsonTypeName(), verb: action.verb, data: action.data };
  };
  const root = document.getElementById("card");
  root.replaceChildren(card.render());
  return events;
}
"""


def all_cards() -> list[tuple[str, dict[str, Any]]]:
    cards = [
        (f"{state.value}-{size}", escalation_card(card(state, size)))
        for state in State
        for size in (1, 40, 400)
    ]
    cards.append(("message", message_card("Search", [f"line {n}" for n in range(300)])))
    return cards


@pytest.mark.parametrize(("name", "payload"), all_cards())
def test_cards_validate_against_the_schema(name: str, payload: dict[str, Any]) -> None:
    jsonschema.Draft6Validator(SCHEMA).validate(payload)


def test_the_schema_check_has_teeth() -> None:
    broken = {**message_card("x", []), "body": [{"type": "TextBlock"}]}  # no text
    assert list(jsonschema.Draft6Validator(SCHEMA).iter_errors(broken))


@pytest_asyncio.fixture()
async def page() -> AsyncIterator[Page]:
    if not RENDERER.exists():
        message = "the adaptivecards npm package is missing: run scripts/system-deps.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page()
        await page.set_content('<main id="card"></main>')
        await page.add_script_tag(path=str(RENDERER))
        yield page
        await browser.close()


async def test_the_renderer_accepts_every_card_without_warnings(page: Page) -> None:
    for name, payload in all_cards():
        warnings = await page.evaluate(RENDER, payload)
        assert warnings == [], name


async def test_send_draft_submits_the_edited_draft(page: Page) -> None:
    payload = escalation_card(card(State.ESCALATED, 1))
    assert await page.evaluate(RENDER, payload) == []
    draft = page.locator("#card textarea")
    await draft.fill("An edited reply for the customer.")
    await page.get_by_role("button", name="Send draft").click()
    executed = await page.evaluate("window.executed")
    assert executed["type"] == "Action.Execute" and executed["verb"] == "approve"
    assert executed["data"]["draft"] == "An edited reply for the customer."
    assert executed["data"]["escalation_id"] == "e" * 32


def test_every_card_tells_agents_how_to_reply_in_its_thread() -> None:
    for name, payload in all_cards():
        if name == "message":
            continue
        assert any("@mention Tandem" in b.get("text", "") for b in payload["body"])


def test_after_the_holders_reply_the_box_stays_for_send_edited_without_send_draft() -> None:
    """A reply while holding answers the draft (``plan_send``): the card offers no *Send draft*,
    but *Send edited* still needs the box it reads."""
    held = card(State.AGENT, 1)
    answered = replace(held, draft="", actions=tuple(a for a in held.actions if a != "approve"))
    payload = escalation_card(answered)
    text = json.dumps(payload)
    assert '"id": "draft"' in text and '"value": ""' in text
    assert '"verb": "approve"' not in text and "Send edited" in text
    jsonschema.validate(payload, SCHEMA)


def test_the_card_says_what_a_resolve_would_leave_waiting_above_its_buttons() -> None:
    """Adaptive Cards have no confirmation dialog: the caution stands on the card."""
    caution = "You told the customer you would come back to them: \u201cI'll check.\u201d"
    payload = escalation_card(replace(card(State.AGENT, 1), resolve_caution=caution))
    jsonschema.validate(payload, SCHEMA)
    warning = [b for b in payload["body"] if b.get("color") == "Warning"]
    assert [b["text"] for b in warning] == [f"Before you resolve: {caution}"]
    settled = escalation_card(card(State.RESOLVED, 1))
    assert not [b for b in settled["body"] if b.get("color") == "Warning"]


def test_customer_text_is_shown_literally_with_no_stray_backslashes() -> None:
    from integrations.teams.cards import plain

    assert plain("[win](https://evil.example) *now* __please__") == (
        "\\[win\\](https://evil.example) \\*now\\* \\_\\_please\\_\\_"
    )
    assert plain("order #1 > order #2, `code`") == "order #1 > order #2, `code`"


def test_a_write_back_names_the_agent_who_was_answered() -> None:
    written_back = replace(card(State.ESCALATED, 1), reasons=("wrote_back",), wrote_back_to="Dana")
    assert "Reasons: Customer wrote back to Dana" in json.dumps(escalation_card(written_back))

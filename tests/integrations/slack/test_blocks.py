"""Every Block Kit message and modal we build passes slack_sdk's models and our own checks of
the limits it does not enforce, long transcripts and drafts included."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.card import build_card
from bot.conversation import (
    ArticleRef,
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    State,
    Summary,
)
from bot.learning import Answered
from integrations.answer_review import ReviewItem
from integrations.slack.blocks import check_blocks, edit_modal, escalation_blocks, text_blocks
from integrations.slack.kb_command import add_modal
from integrations.slack.review import review_blocks

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def mrkdwn_texts(value: Any) -> list[str]:
    """Every mrkdwn text (where Slack would parse mentions and links)."""
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [t for v in value.values() for t in mrkdwn_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn_texts(v)]
    return []


def card(state: State, size: int):  # type: ignore[no-untyped-def]
    long = "word <@U123> & <!channel> " * size
    conversation = Conversation(
        "c" * 32, "web", state, 3, NOW, holder="Alice" if state is State.AGENT else None
    )
    escalation = Escalation(
        id="e" * 32,
        conversation_id=conversation.id,
        status=EscalationStatus.OPEN,
        reasons=("human_request", "frustration", "sensitive"),
        summary=Summary(
            "Returns " * size,
            long,
            "negative",
            "rising",
            tuple(f"Order LK-{n}" for n in range(size)),
            ("Returns policy",) * size,
        ),
        articles=tuple(ArticleRef(f"a{n}", long[:300], None, long) for n in range(3)),
        draft=long,
        draft_version=2,
        created_at=NOW,
    )
    transcript = [
        Message(n, conversation.id, Kind.CUSTOMER if n % 2 else Kind.ANSWER, long, NOW)
        for n in range(size)
    ]
    history = [AuditEntry(conversation.id, "Alice", "slack", "note", NOW) for _ in range(size)]
    return build_card(
        conversation,
        escalation,
        transcript,
        history,
        public_url="https://tandem.example",
        mask_personal_data=True,
    )


@pytest.mark.parametrize("state", [State.ESCALATED, State.AGENT, State.BOT, State.RESOLVED])
@pytest.mark.parametrize("size", [1, 40, 400])
def test_cards_fit_slack(state: State, size: int) -> None:
    built = card(state, size)
    blocks = escalation_blocks(built, mention="S0AGENTS1")
    assert check_blocks(blocks) == []
    for block in blocks:
        Block.parse(block).validate_json()  # raises on slack_sdk's own limits
    if size >= 40:
        assert "…more on the desk" in str(blocks), "cut content links to the desk"
    else:
        assert "|Open on the desk>" in str(blocks), "every card links to the desk"
    markdown = " ".join(mrkdwn_texts(blocks))
    assert "<!channel>" not in markdown and "&lt;!channel&gt;" in markdown, "customer text escaped"
    modal = edit_modal(built)
    View(**modal).validate_json()
    assert check_blocks(modal["blocks"], modal=True) == []


def test_admin_answers_and_modals_fit_slack() -> None:
    blocks = text_blocks("Search", [f"line {n} " + "x" * 200 for n in range(2000)])
    assert check_blocks(blocks) == []
    for block in blocks:
        Block.parse(block).validate_json()
    View(**add_modal("C1")).validate_json()


def test_our_check_catches_what_slack_would_reject() -> None:
    too_many = [{"type": "divider"}] * 51
    assert check_blocks(too_many) == ["51 blocks"]
    assert check_blocks([{"type": "carousel"}]) == ["unknown block type carousel"]
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert check_blocks([long]) == ["section text of 3001 characters"]


def test_the_repository_manifest_is_the_generated_one() -> None:
    from integrations.slack.manifest import build_manifest
    from tests.conftest import REPO

    on_disk = json.loads((REPO / "manifest.json").read_text())
    assert on_disk == build_manifest()
    endpoint = "https://tandem.example.com/slack/events"
    assert on_disk["settings"]["interactivity"]["request_url"] == endpoint
    assert on_disk["features"]["slash_commands"][0]["command"] == "/kb"
    assert "message.channels" in on_disk["settings"]["event_subscriptions"]["bot_events"]


def test_a_review_of_a_long_question_fits_block_kit() -> None:
    """A question of the longest a customer may write, and an article full of characters
    Slack escapes, still make a message Slack accepts."""
    answer = Answered("c1", "returns", 0.83, id=7, question="<&> " * 1000)
    choices = tuple((f"article-{n}" * 3, "A title " * 20) for n in range(150))
    item = ReviewItem(answer, "Returns " * 40, "& <b> " * 600 + "\n" * 50, choices)
    blocks = review_blocks(item, note="Graded right. " * 300)
    assert check_blocks(blocks) == []
    for block in blocks:
        Block.parse(block).validate_json()  # raises on slack_sdk's own limits
    [actions] = [b for b in blocks if b["type"] == "actions"]
    [select] = [e for e in actions["elements"] if e["type"] == "static_select"]
    assert len(select["options"]) == 100
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in select["options"])


def test_resolve_asks_first_when_it_would_leave_the_customer_waiting() -> None:
    waiting = replace(card(State.AGENT, 1), resolve_caution="The customer is still waiting " * 30)
    blocks = escalation_blocks(waiting)
    assert check_blocks(blocks) == []
    for block in blocks:
        Block.parse(block).validate_json()  # the dialog is within Slack's limits
    buttons = {b["action_id"]: b for b in blocks[-2]["elements"]}
    dialog = buttons["tandem_resolve"]["confirm"]
    assert dialog["text"]["text"].startswith("The customer is still waiting")
    assert len(dialog["text"]["text"]) <= 300 and dialog["style"] == "danger"
    assert all("confirm" not in b for name, b in buttons.items() if name != "tandem_resolve")

    settled = escalation_blocks(replace(waiting, resolve_caution=""))
    assert "confirm" not in str(settled)


def test_a_write_back_names_the_agent_who_was_answered() -> None:
    written_back = replace(card(State.ESCALATED, 1), reasons=("wrote_back",), wrote_back_to="Dana")
    blocks = escalation_blocks(written_back)
    assert check_blocks(blocks) == []
    assert "*Reasons:* Customer wrote back to Dana" in str(blocks)
    unnamed = escalation_blocks(replace(written_back, wrote_back_to=None))
    assert "*Reasons:* Customer wrote back to an agent" in str(unnamed)


def test_a_write_back_mentions_the_slack_agent_who_was_answered() -> None:
    """Their reply was sent from Slack: the new card mentions them, so it reaches them first."""
    written_back = replace(
        card(State.ESCALATED, 1),
        reasons=("wrote_back",),
        wrote_back_to="Dana",
        wrote_back_to_id="slack:U0DANA42",
    )
    blocks = escalation_blocks(written_back, mention="S0AGENTS1")
    assert check_blocks(blocks) == []
    intro = next(t for t in mrkdwn_texts(blocks) if "*Reasons:*" in t)
    assert intro.startswith("<@U0DANA42> <!subteam^S0AGENTS1> *Reasons:* Customer wrote back")
    from_desk = replace(written_back, wrote_back_to_id="desk:dana")
    intro = next(t for t in mrkdwn_texts(escalation_blocks(from_desk)) if "*Reasons:*" in t)
    assert intro.startswith("*Reasons:* Customer wrote back to Dana"), "no Slack user to mention"

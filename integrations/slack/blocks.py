"""Render the domain ``EscalationCard`` (and /kb answers) as Block Kit, within Slack's limits
(DESIGN §3): long content is cut with a link to the desk, so Slack never rejects a card."""

from __future__ import annotations

import re
from typing import Any

from bot.card import EscalationCard, speaker
from bot.text import clip

MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
FIELD_CHARS = 2000
MAX_FIELDS = 10
BUTTON_TEXT = 75
INPUT_CHARS = 3000
CONFIRM_CHARS = 300  # a confirmation dialog's text
TRANSCRIPT_LINES = 12
MAX_OPTIONS = 100  # a static_select's options
OPTION_VALUE = 150  # characters in an option's value
NOT_IN_KB = "not_in_kb"

ACTION_IDS = {
    "approve": "tandem_approve",
    "send": "tandem_edit",
    "take_over": "tandem_take_over",
    "regenerate": "tandem_regenerate",
    "hand_back": "tandem_hand_back",
    "resolve": "tandem_resolve",
}
BUTTON_LABELS = {
    "approve": "Send draft",
    "send": "Edit & send",
    "take_over": "Take over",
    "regenerate": "Regenerate",
    "hand_back": "Hand back",
    "resolve": "Resolve",
}
Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack mrkdwn escaping: a customer cannot mention @channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_CHARS)}}


def slack_user(agent_id: str | None) -> str | None:
    """The Slack user id of an agent's stable id (``slack:U…``); None for other channels."""
    found = re.fullmatch(r"slack:([A-Z0-9]+)", agent_id or "")
    return found.group(1) if found else None


def _more(card: EscalationCard, cut: bool) -> str:
    return f"<{card.desk_url}|{'…more on the desk' if cut else 'Open on the desk'}>"


def _transcript(card: EscalationCard) -> str:
    lines = [f"*{escape(speaker(m))}:* {escape(m.text)}" for m in card.transcript if not m.internal]
    shown = lines[-TRANSCRIPT_LINES:]
    text = "\n".join(shown)
    budget = SECTION_CHARS - 200
    cut = len(shown) < len(lines) or len(text) > budget
    if len(text) > budget:
        text = "…" + text[-budget:]
    return f"*Transcript*\n{text}\n{_more(card, cut)}"  # the whole case is a click away


def escalation_blocks(card: EscalationCard, *, mention: str | None = None) -> list[Block]:
    """The escalation card as Block Kit: summary, transcript, articles, the draft in an editable
    input, and the actions still open."""
    summary = card.summary
    reasons = ", ".join(card.reason_labels)
    state = f"held by {card.holder}" if card.holder else card.state.value
    who = f"{escape(card.customer)}, " if card.customer else ""
    intro = (
        f"*Reasons:* {escape(reasons)}\n*Customer:* {who}conversation "
        f"`{card.conversation_id[:8]}` ({card.channel})"
    )
    if mention:
        intro = f"<!subteam^{mention}> {intro}"
    agent = slack_user(card.wrote_back_to_id)
    if agent:  # the customer wrote back to this agent's reply: theirs to pick up first
        intro = f"<@{agent}> {intro}"
    fields = [
        ("Intent", summary.intent),
        ("Goal", summary.goal),
        ("Sentiment", f"{summary.sentiment} ({summary.trend})"),
        ("Key facts", ", ".join(summary.key_facts) or "none"),
        ("Bot answered", ", ".join(summary.bot_answers) or "nothing yet"),
        ("State", state),
        ("Queue", card.queue_line),
    ]
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(f"Escalation: {summary.goal}", HEADER_CHARS),
            },
        },
        _mrkdwn(intro),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": clip(f"*{name}*\n{escape(value)}", FIELD_CHARS)}
                for name, value in fields[:MAX_FIELDS]
            ],
        },
        {"type": "divider"},
        _mrkdwn(_transcript(card)),
    ]
    if card.articles:
        articles = "\n".join(
            f"• *{escape(a.title)}*: {escape(clip(a.passage, 400))}" for a in card.articles
        )
        blocks.append(_mrkdwn(f"*Knowledge*\n{articles}"))
    if "approve" in card.actions:
        blocks.append(
            {
                "type": "input",
                "block_id": f"draft:{card.draft_version}",
                "label": {"type": "plain_text", "text": "Draft reply"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "draft",
                    "multiline": True,
                    "max_length": INPUT_CHARS,
                    "initial_value": clip(card.draft, INPUT_CHARS),
                },
            }
        )
    if card.choices:
        blocks.append(_tag_block(card))
    buttons = [
        {
            "type": "button",
            "action_id": ACTION_IDS[name],
            "text": {"type": "plain_text", "text": clip(BUTTON_LABELS[name], BUTTON_TEXT)},
            "value": card.escalation_id,
            **({"style": "primary"} if name == "approve" else {}),
            **(
                {"confirm": _resolve_confirm(card)}
                if name == "resolve" and card.resolve_caution
                else {}
            ),
        }
        for name in card.actions
        if name in ACTION_IDS
    ]
    if buttons:
        blocks.append({"type": "actions", "block_id": "tandem_actions", "elements": buttons})
    history = [
        f"{h.at:%H:%M} {escape(h.actor)} ({h.channel}): {h.action.replace('_', ' ')}"
        for h in card.history
    ][-5:]
    if history:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip(" · ".join(history), 2000)}],
            }
        )
    return blocks[:MAX_BLOCKS]


def _resolve_confirm(card: EscalationCard) -> Block:
    """Slack's confirmation dialog before a resolve that would leave the customer waiting."""
    return {
        "title": {"type": "plain_text", "text": "Resolve anyway?"},
        "text": {"type": "plain_text", "text": clip(card.resolve_caution, CONFIRM_CHARS)},
        "confirm": {"type": "plain_text", "text": "Resolve"},
        "deny": {"type": "plain_text", "text": "Keep it open"},
        "style": "danger",
    }


def _option(escalation_id: str, article_id: str, title: str) -> Block:
    return {
        "text": {"type": "plain_text", "text": clip(title, BUTTON_TEXT)},
        "value": f"{escalation_id}|{article_id}",
    }


def _tag_block(card: EscalationCard) -> Block:
    """ "This was …": the article that answers the escalation, the bot's guess preselected."""
    fits = [(i, t) for i, t in card.choices if len(card.escalation_id) + len(i) < OPTION_VALUE]
    options = [_option(card.escalation_id, i, t) for i, t in fits[: MAX_OPTIONS - 1]]
    options.append(_option(card.escalation_id, NOT_IN_KB, "Not in the knowledge base"))
    chosen = card.suggested_article or NOT_IN_KB
    initial = next((o for o in options if o["value"].endswith(f"|{chosen}")), options[-1])
    return {
        "type": "section",
        "block_id": "tandem_tag",
        "text": {"type": "mrkdwn", "text": "*This was* (teaches the bot):"},
        "accessory": {
            "type": "static_select",
            "action_id": "tandem_tag",
            "placeholder": {"type": "plain_text", "text": "Pick the article"},
            "initial_option": initial,
            "options": options,
        },
    }


def edit_modal(card: EscalationCard, text: str | None = None) -> Block:
    """The *Edit & send* modal, prefilled with the draft."""
    return {
        "type": "modal",
        "callback_id": "tandem_edit",
        "private_metadata": card.escalation_id,
        "title": {"type": "plain_text", "text": "Edit & send"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _mrkdwn(f"*Goal:* {escape(card.summary.goal)}"),
            {
                "type": "input",
                "block_id": "reply",
                "label": {"type": "plain_text", "text": "Reply to the customer"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": INPUT_CHARS,
                    "initial_value": clip(text or card.draft, INPUT_CHARS),
                },
            },
        ],
    }


def text_blocks(title: str, lines: list[str]) -> list[Block]:
    """An ephemeral answer: a title and lines, cut to fit."""
    body = "\n".join(lines) or "_nothing_"
    blocks: list[Block] = [_mrkdwn(f"*{escape(title)}*")]
    for start in range(0, len(body), SECTION_CHARS):
        blocks.append(_mrkdwn(body[start : start + SECTION_CHARS]))
    return blocks[:MAX_BLOCKS]


def check_blocks(blocks: list[Block], *, modal: bool = False) -> list[str]:
    """Our own check of the limits ``slack_sdk.models`` does not enforce: block count, unknown
    block types, and text lengths. Returns the problems found (empty when fine)."""
    known = {"header", "section", "divider", "context", "actions", "input", "image"}
    problems = []
    if len(blocks) > (100 if modal else MAX_BLOCKS):
        problems.append(f"{len(blocks)} blocks")
    for block in blocks:
        if block.get("type") not in known:
            problems.append(f"unknown block type {block.get('type')}")
        text = block.get("text", {}).get("text", "")
        limit = HEADER_CHARS if block.get("type") == "header" else SECTION_CHARS
        if len(text) > limit:
            problems.append(f"{block['type']} text of {len(text)} characters")
        for field in block.get("fields", []):
            if len(field["text"]) > FIELD_CHARS:
                problems.append("field over 2000 characters")
        if len(block.get("fields", [])) > MAX_FIELDS:
            problems.append("more than 10 fields")
        element = block.get("element", {})
        if len(element.get("initial_value", "")) > INPUT_CHARS:
            problems.append("input over 3000 characters")
        for button in block.get("elements", []):
            if len(button.get("confirm", {}).get("text", {}).get("text", "")) > CONFIRM_CHARS:
                problems.append("confirmation text over 300 characters")
    return problems

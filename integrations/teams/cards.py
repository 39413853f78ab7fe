"""Render the domain ``EscalationCard`` (and admin answers) as Adaptive Cards 1.5 for Teams.

Buttons are ``Action.Execute`` (universal actions: Teams sends an ``adaptiveCard/action``
invoke and shows the card we return) with an ``Action.Submit`` fallback for older clients."""

from __future__ import annotations

from typing import Any

from bot.card import EscalationCard, speaker
from bot.text import clip

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
TRANSCRIPT_LINES = 8
LINE_CHARS = 500
DRAFT_CHARS = 4000
MAX_ACTIONS = 5
NOT_IN_KB = "not_in_kb"
LABELS = {
    "tag": "Tag article",
    "approve": "Send draft",
    "send": "Send edited",
    "take_over": "Take over",
    "regenerate": "Regenerate",
    "hand_back": "Hand back",
    "resolve": "Resolve",
}
Element = dict[str, Any]


def plain(text: str) -> str:
    """Customer text shown literally: no markdown links or emphasis of theirs. Only what the
    Adaptive Card subset of markdown reads is escaped (bold, italic, links), so that "#1" or
    "a > b" shows no backslash where a client does not unescape other characters."""
    for char in "\\[]*_":
        text = text.replace(char, "\\" + char)
    return text


def text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _action(name: str, escalation_id: str, version: int) -> Element:
    # The card's draft version: a double click on a send is one send (``seen_version``).
    data = {"escalation_id": escalation_id, "action": name, "version": version}
    title = LABELS[name]
    return {
        "type": "Action.Execute",
        "verb": name,
        "title": title,
        "data": data,
        **({"style": "positive"} if name == "approve" else {}),
        "fallback": {"type": "Action.Submit", "title": title, "data": data},
    }


def _buttons(card: EscalationCard) -> list[str]:
    """At most ``MAX_ACTIONS`` (Teams' host config): while the card waits for an agent, *Hand
    back* gives way to the five the agent needs first."""
    names = [name for name in card.actions if name in LABELS]
    if len(names) > MAX_ACTIONS:
        names.remove("hand_back")
    return names[:MAX_ACTIONS]


THREAD_HINT = (
    "Reply in this card's thread: once you have taken over, your replies reach the customer "
    "(start with `note:` to keep one internal). If the app was added without its "
    "channel-message permission, @mention Tandem in each reply."
)


def escalation_card(card: EscalationCard) -> Element:
    """The escalation as an Adaptive Card 1.5."""
    summary = card.summary
    facts = [
        ("Customer", f"{card.customer or 'anonymous'} ({card.channel})"),
        ("Intent", summary.intent),
        ("Goal", summary.goal),
        ("Sentiment", f"{summary.sentiment} ({summary.trend})"),
        ("Key facts", ", ".join(summary.key_facts) or "none"),
        ("Bot answered", ", ".join(summary.bot_answers) or "nothing yet"),
        ("State", f"held by {card.holder}" if card.holder else card.state.value),
        ("Queue", card.queue_line),
    ]
    lines = [m for m in card.transcript if not m.internal]
    body: list[Element] = [
        text_block(clip(f"Escalation: {plain(summary.goal)}", 300), weight="Bolder", size="Medium"),
        text_block("Reasons: " + plain(", ".join(card.reason_labels)), color="Attention"),
        {
            "type": "FactSet",
            "facts": [{"title": t, "value": clip(plain(v), 1000)} for t, v in facts],
        },
        text_block("Transcript", weight="Bolder", separator=True),
        *(
            text_block(f"**{plain(speaker(m))}:** {clip(plain(m.text), LINE_CHARS)}")
            for m in lines[-TRANSCRIPT_LINES:]
        ),
        text_block(f"[…more on the desk]({card.desk_url})", size="Small"),
    ]
    if card.articles:
        body.append(text_block("Knowledge", weight="Bolder", separator=True))
        body.extend(
            text_block(f"**{plain(a.title)}**: {clip(plain(a.passage), 300)}")
            for a in card.articles
        )
    if card.choices:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "article",
                "label": "This was (the article that answers it)",
                "value": card.suggested_article or NOT_IN_KB,
                "choices": [
                    *({"title": clip(plain(t), 100), "value": i} for i, t in card.choices),
                    {"title": "Not in the knowledge base", "value": NOT_IN_KB},
                ],
            }
        )
        body.append(
            {
                "type": "ActionSet",
                "actions": [_action("tag", card.escalation_id, card.draft_version)],
            }
        )
    if "approve" in card.actions or "send" in card.actions:  # "Send edited" reads the box
        body.append(
            {
                "type": "Input.Text",
                "id": "draft",
                "label": "Draft reply",
                "isMultiline": True,
                "maxLength": DRAFT_CHARS,
                "value": clip(card.draft, DRAFT_CHARS),
            }
        )
    history = [
        f"{h.at:%H:%M} {plain(h.actor)} ({h.channel}): {h.action.replace('_', ' ')}"
        for h in card.history
    ][-5:]
    if history:
        body.append(text_block(" · ".join(history), isSubtle=True, size="Small", separator=True))
    body.append(text_block(THREAD_HINT, isSubtle=True, size="Small"))
    if card.resolve_caution and "resolve" in card.actions:
        # Adaptive Cards have no confirmation dialog: the caution stands above the buttons.
        body.append(
            text_block(f"Before you resolve: {plain(card.resolve_caution)}", color="Warning")
        )
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
        "actions": [
            _action(name, card.escalation_id, card.draft_version) for name in _buttons(card)
        ],
    }


def message_card(title: str, lines: list[str]) -> Element:
    """A plain card: a title and lines (admin answers, refusals)."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": [
            text_block(plain(title), weight="Bolder"),
            *(text_block(clip(plain(line), 2000)) for line in lines[:100]),
        ],
    }

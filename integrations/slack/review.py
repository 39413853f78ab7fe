"""``/kb review`` in Slack: an agent grades the bot's answers drawn at random, one at a time,
in an ephemeral message (``integrations.answer_review``). *Right* or *Wrong* (with the right
article, if the agent picks one) grades it and replaces the message with the next answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.text import clip
from integrations.answer_review import ADVICE, ReviewItem, draw, grade
from integrations.composition import Services
from integrations.slack.blocks import (
    BUTTON_TEXT,
    MAX_OPTIONS,
    OPTION_VALUE,
    SECTION_CHARS,
    escape,
)
from integrations.storage.tables import MAX_ID

logger = logging.getLogger(__name__)
BLOCK_PREFIX = "tandem_review:"
PICK = "tandem_review_article"
GRADES = {"tandem_review_right": True, "tandem_review_wrong": False}
QUESTION_CHARS = 1500
NOTE_CHARS = 1000
Block = dict[str, Any]


def review_blocks(item: ReviewItem | None, note: str | None = None) -> list[Block]:
    """One answer to grade (or that none is left), under ``note`` (how the last one went)."""
    blocks: list[Block] = []
    if note:
        note_text = {"type": "mrkdwn", "text": clip(escape(note), NOTE_CHARS)}
        blocks.append({"type": "context", "elements": [note_text]})
    if item is None:
        blocks.append(_section("*Nothing left to review.* Thank you."))
        return blocks
    answer = item.answer
    blocks += [
        _section(f"*Review a bot answer.* {ADVICE}"),
        _section(
            f"*Customer asked:* {escape(clip(answer.question or '', QUESTION_CHARS))}\n"
            f"*Answered with:* {escape(item.title)} (confidence {answer.confidence:.2f})"
        ),
    ]
    if item.text:
        blocks.append(_section(">" + escape(item.text).replace("\n", "\n>")))
    elements: list[Block] = [_button("Right", answer.id, True), _button("Wrong", answer.id, False)]
    options = [
        {"text": {"type": "plain_text", "text": clip(title, BUTTON_TEXT)}, "value": article}
        for article, title in item.choices
        if len(article) <= OPTION_VALUE
    ][:MAX_OPTIONS]
    if options:
        elements.append(
            {
                "type": "static_select",
                "action_id": PICK,
                "placeholder": {"type": "plain_text", "text": "If wrong: the right article"},
                "options": options,
            }
        )
    blocks.append(
        {"type": "actions", "block_id": f"{BLOCK_PREFIX}{answer.id}", "elements": elements}
    )
    return blocks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_CHARS)}}


def _button(label: str, answer_id: int | None, right: bool) -> Block:
    return {
        "type": "button",
        "action_id": "tandem_review_right" if right else "tandem_review_wrong",
        "text": {"type": "plain_text", "text": label},
        "value": str(answer_id),
        "style": "primary" if right else "danger",
    }


def picked_article(body: dict[str, Any], answer_id: int) -> str | None:
    """The article picked in the message's select for ``answer_id``, if any."""
    values = ((body.get("state") or {}).get("values") or {}).get(f"{BLOCK_PREFIX}{answer_id}")
    option = ((values or {}).get(PICK) or {}).get("selected_option")
    return str(option["value"]) if option else None


class SlackReview:
    """Args:
    services: The running service.
    """

    def __init__(self, *, services: Services) -> None:
        self.services = services

    async def next_blocks(self, note: str | None = None) -> list[Block]:
        """The next answer drawn at random, under ``note``."""
        drawn = await draw(self.services.learning, self.services.knowledge_base, 1)
        return review_blocks(drawn[0] if drawn else None, note)

    async def on_pick(self, ack: AsyncAck) -> None:
        """Picking the article sends nothing until *Wrong* is clicked."""
        await ack()

    async def on_grade(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        right = GRADES[action["action_id"]]
        try:
            answer_id = int(action["value"])
        except (KeyError, ValueError):
            answer_id = 0
        if not 0 < answer_id <= MAX_ID:
            logger.warning("a review click without an answer id", extra={"value": action})
            return
        article = None if right else picked_article(body, answer_id)
        user = body["user"]["id"]
        graded = await grade(
            self.services, answer_id=answer_id, right=right, article_id=article, agent=user
        )
        if not graded.settled:  # the agent can correct it on the same answer: keep it shown
            await respond(text=graded.message, response_type="ephemeral", replace_original=False)
            return
        blocks = await self.next_blocks(graded.message)
        await respond(text="Review a bot answer", blocks=blocks, replace_original=True)

"""``kb review`` in Teams: an agent grades the bot's answers drawn at random, one at a time, on
an Adaptive Card (``integrations.answer_review``). *Right* or *Wrong* (with the right article,
if the agent picks one) grades it; the card is replaced by the next answer."""

from __future__ import annotations

from typing import Any

from bot.text import clip
from integrations.answer_review import ADVICE, ReviewItem, draw, grade, review_item
from integrations.composition import Services
from integrations.storage.tables import MAX_ID
from integrations.teams.cards import SCHEMA, Element, plain, text_block

VERB = "review"


def review_card(item: ReviewItem | None, note: str | None = None) -> Element:
    """One answer to grade (or that none is left), under ``note`` (how the last one went)."""
    body: list[Element] = []
    if note:
        body.append(text_block(plain(note), isSubtle=True))
    actions: list[Element] = []
    if item is None:
        body.append(text_block("Nothing left to review. Thank you.", weight="Bolder"))
    else:
        answer = item.answer
        body += [
            text_block("Review a bot answer", weight="Bolder"),
            text_block(plain(ADVICE), isSubtle=True, size="Small"),
            {
                "type": "FactSet",
                "facts": [
                    {"title": "Customer asked", "value": plain(clip(answer.question or "", 500))},
                    {"title": "Answered with", "value": plain(item.title)},
                    {"title": "Confidence", "value": f"{answer.confidence:.2f}"},
                ],
            },
        ]
        if item.text:
            body.append(text_block(plain(item.text), isSubtle=True, separator=True))
        if item.choices:
            body.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": "article",
                    "label": "If wrong: the right article",
                    "placeholder": "None, or I cannot tell",
                    "choices": [
                        {"title": clip(plain(t), 100), "value": i} for i, t in item.choices
                    ],
                }
            )
        actions = [_grade(answer.id, True), _grade(answer.id, False)]
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
        "actions": actions,
    }


def _grade(answer_id: int | None, right: bool) -> Element:
    data = {"action": VERB, "review": answer_id, "right": right}
    title = "Right" if right else "Wrong"
    return {
        "type": "Action.Execute",
        "verb": VERB,
        "title": title,
        "data": data,
        "style": "positive" if right else "destructive",
        "fallback": {"type": "Action.Submit", "title": title, "data": data},
    }


async def next_review_card(services: Services, note: str | None = None) -> Element:
    """The next answer drawn at random, under ``note``."""
    drawn = await draw(services.learning, services.knowledge_base, 1)
    return review_card(drawn[0] if drawn else None, note)


async def graded_card(services: Services, data: dict[str, Any], agent: str) -> Element | None:
    """Grade the answer a card's click names; the card to show next (the same answer with what
    went wrong, when the agent can correct it). None for a malformed click."""
    answer_id, right = data.get("review"), data.get("right")
    if isinstance(answer_id, bool) or not isinstance(answer_id, int) or not isinstance(right, bool):
        return None  # as the cards send them: an integer id and a boolean
    if not 0 < answer_id <= MAX_ID:
        return None
    picked = data.get("article")
    article = picked if not right and isinstance(picked, str) and picked else None
    graded = await grade(
        services, answer_id=answer_id, right=right, article_id=article, agent=agent
    )
    if graded.settled:
        return await next_review_card(services, graded.message)
    item = await review_item(services.learning, services.knowledge_base, answer_id)
    return review_card(item, graded.message)

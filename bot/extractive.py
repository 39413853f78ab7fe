"""The embedded default drafter: no model, only the knowledge passages and the customer's
words. It fills the ``Drafter`` port (``bot.drafting``) that an LLM drafter fills too."""

from __future__ import annotations

import re

from bot import wording
from bot.conversation import Summary
from bot.drafting import (
    MAX_PASSAGE_CHARS,
    DraftContext,
    goal_text,
    lookups_of,
    passage_text,
    sentiment_of,
    usable,
)
from bot.facts import key_facts, topic_facts
from bot.model import REASON_LABELS, ArticleMatch, EscalationReason
from bot.needs import is_question
from bot.phrases import COMPLAINT, HUMAN_REQUEST
from bot.text import clip

MAX_ANSWERS = 2  # the needs a draft answers with a passage
QUOTE_FLOOR = 0.25
"""The goal's article is quoted only at this confidence or above: a draft that quotes a match
the bot puts at 0.14 misleads the agent who approves it."""
_COURTESY = frozenset({"please", "would", "could", "possible", "want", "like", "thanks", "thank"})
THROUGH_TO_A_PERSON = "You're through to a person from our team. What can I help you with?"


def only_asks_for_a_person(need: str) -> bool:
    """The need is a request for a person and nothing more ("would it be possible to speak to
    someone?"): no other word of four letters or more, and no reference or number."""
    if not HUMAN_REQUEST.search(need):
        return False
    rest = re.findall(r"[\w-]+", HUMAN_REQUEST.sub(" ", need))
    return not any(
        re.search(r"\d", word) or (len(word) >= 4 and word.lower() not in _COURTESY)
        for word in rest
    )


def calls_for_apology(context: DraftContext) -> bool:
    """The customer is upset, complains, or said an answer did not help."""
    scores = context.frustration
    upset = bool(scores) and (scores[-1] >= 0.3 or max(scores) >= 0.5)
    sore = {EscalationReason.COMPLAINT, EscalationReason.FRUSTRATION}
    sore.add(EscalationReason.REPEATED_FAILURE)
    return (
        upset
        or bool(sore.intersection(context.reasons))
        or bool(context.rejected)
        or bool(COMPLAINT.search(goal_text(context)))
    )


class ExtractiveDrafter:
    """The embedded default: no model, only the knowledge passages and the customer's words.

    Args:
        mask_personal_data: Mask emails and phone numbers in key facts.
    """

    def __init__(self, *, mask_personal_data: bool = True) -> None:
        self.mask_personal_data = mask_personal_data

    async def summarise(self, context: DraftContext) -> Summary:
        sentiment, trend = sentiment_of(context.frustration, context.overall)
        _, retrieval = lookups_of(context)[0]
        confident = usable(retrieval, context.rejected) or usable(retrieval)
        intent = confident[0].title if confident else "unknown"
        if COMPLAINT.search(goal_text(context)) and retrieval.confidence < retrieval.threshold:
            intent = REASON_LABELS[EscalationReason.COMPLAINT]  # not a loosely matching article
        return Summary(
            intent=intent,
            goal=goal_text(context),
            sentiment=sentiment,
            trend=trend,
            key_facts=(
                *topic_facts(context.topics),
                *key_facts(context.customer_texts, mask=self.mask_personal_data),
            ),
            bot_answers=context.bot_answers,
            topics=context.topics,
        )

    async def draft(self, context: DraftContext) -> str:
        opening = "Hi, thanks for your patience."
        if calls_for_apology(context):
            opening = "Hi, I'm sorry for the trouble, and thanks for your patience."
        opening = wording.care_opening(context.topics) or opening
        facts = key_facts(context.customer_texts, mask=False)
        order = next((f.removeprefix("Order ") for f in facts if f.startswith("Order ")), None)
        plan = self._plan(context)
        several = len(plan) > 1
        answered = sum(match is not None for _, match in plan)
        limit = MAX_PASSAGE_CHARS if answered < 2 else MAX_PASSAGE_CHARS * 2 // 3
        parts = []
        for need, match in plan:
            if match is None and only_asks_for_a_person(need):
                parts.append(THROUGH_TO_A_PERSON)
            elif match is None and COMPLAINT.search(need):
                noted = f'I\'ve noted your complaint ("{clip(need, 200)}")'
                parts.append(f"{noted} and I'm looking into it now.")
            elif match is None:
                what = "your question" if is_question(need) else "this"
                parts.append(f'I\'m looking into {what} ("{clip(need, 200)}") now.')
            else:
                intro = f'About "{clip(need, 60)}": ' if several else ""
                parts.append(intro + clip(passage_text(match), limit))
        if order and not several:
            parts[0] = f"About your order {order}: {parts[0]}"
        elif order and not any(order in need for need, _ in plan):
            parts.insert(0, f"About your order {order}:")
        closing = "Is there anything else I can help you with?"
        if all(part == THROUGH_TO_A_PERSON for part in parts):
            closing = ""  # they have not said what they need yet: the agent asks
        elif answered < len(plan):
            closing = "I'll get back to you here as soon as I have an answer."
        return "\n\n".join(part for part in [opening, *parts, closing] if part)

    def _plan(self, context: DraftContext) -> list[tuple[str, ArticleMatch | None]]:
        """Each need with the passage that answers it, or None while it is looked into: the
        goal first, at most ``MAX_ANSWERS`` answered (an article once) and as many looked into;
        the variant picks the goal's n-th usable article. A complaint, a sensitive case, a
        request for a person and every need after the goal get a passage only at the
        confidence the bot answers at; no need gets one under ``QUOTE_FLOOR``."""
        plan: list[tuple[str, ArticleMatch | None]] = []
        sensitive = EscalationReason.SENSITIVE in context.reasons
        for i, (need, retrieval) in enumerate(lookups_of(context)):
            used = {m.article_id for _, m in plan if m is not None}
            found = [m for m in usable(retrieval, context.rejected) if m.article_id not in used]
            cautious = i > 0 or COMPLAINT.search(need) or sensitive or only_asks_for_a_person(need)
            if cautious and retrieval.confidence < retrieval.threshold:
                found = []  # only a confident passage for a complaint, a sensitive case, a
                # request for a person or a further need
            if retrieval.confidence < QUOTE_FLOOR:
                found = []  # a match this loose misleads the agent who approves the draft
            if i == 0 and any(m.title in context.passed_over for m in retrieval.matches[:1]):
                found = []  # answered, and not enough: a person looks into it, not another article
            answered = sum(m is not None for _, m in plan)
            if found and answered < MAX_ANSWERS:
                plan.append((need, found[context.variant % len(found)] if i == 0 else found[0]))
            elif not found and len(plan) - answered < MAX_ANSWERS:
                plan.append((need, None))
        return plan

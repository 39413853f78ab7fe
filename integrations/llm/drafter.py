"""``LLMDrafter``: the ``Drafter`` port answered at once by the extractive drafter, and
``refine`` for the LLM's summary and draft once the card is posted.

The engine posts the card with what ``summarise``/``draft`` return (extractive, instant), then
awaits ``refine(context)`` in the background and updates the card with its result. Every
failure (timeout, 429, 5xx, malformed output, an open breaker) falls back to the extractive
result and is counted; an LLM draft whose facts are not in the sources carries an
``unverified: …`` warning or is replaced (``TANDEM_LLM__ON_UNVERIFIED``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot.conversation import Summary
from bot.drafting import DraftContext, passage_text, sentiment_of
from bot.extractive import ExtractiveDrafter
from bot.facts import topic_facts
from bot.model import ArticleMatch
from bot.wording import draft_with_care
from config import LLMSettings
from integrations.llm.client import LLMClient
from integrations.llm.grounding import Grounding, check, promises
from integrations.llm.guard import LLMFailure
from integrations.llm.privacy import Masker
from integrations.llm.prompts import DraftOut, SummaryOut, clipped_turns, leaks_rules, messages_for

logger = logging.getLogger(__name__)
CHECK_LINE = "I'll check this with the team and get back to you here."
_CHECKS = re.compile(r"\b(check|look into|get back to you|find out)", re.IGNORECASE)


@dataclass(frozen=True)
class Refined:
    """What ``refine`` gives the engine for the card.

    Attributes:
        summary: The LLM's summary, or the extractive one after a failure.
        draft: The LLM's draft (unmasked), or the extractive one.
        warning: ``unverified: …`` for an agent-only warning on the card; empty when clean.
        by_llm: False when both are the extractive fallback (the card need not change).
        fallbacks: The failure reasons that made a part fall back (``summary:timeout``, …).
    """

    summary: Summary
    draft: str
    warning: str = ""
    by_llm: bool = True
    fallbacks: tuple[str, ...] = ()


def usable_matches(context: DraftContext, limit: int = 3) -> list[ArticleMatch]:
    return [m for m in context.retrieval.matches if m.passages][:limit]


def passages_of(context: DraftContext) -> list[str]:
    """What the articles say (with their titles and links): the only source of links, prices
    and promises a draft may state."""
    return [
        f"{m.title} {m.url or ''}\n{passage_text(m)}\n" + "\n".join(m.passages)
        for m in context.retrieval.matches
    ]


class LLMDrafter:
    """The LLM drafter. Keyword-only arguments:

    Args:
        client: The provider behind its guard.
        settings: The ``llm`` settings.
        fallback: The extractive drafter (what the port returns at once, and every fallback).
        card_masking: Cards mask personal data (``TANDEM_ESCALATION__MASK_PERSONAL_DATA``):
            the summary's facts are shown masked.
    """

    def __init__(
        self,
        *,
        client: LLMClient,
        settings: LLMSettings,
        fallback: ExtractiveDrafter | None = None,
        card_masking: bool = True,
    ) -> None:
        self.client = client
        self.settings = settings
        self.fallback = fallback or ExtractiveDrafter(mask_personal_data=card_masking)
        self.card_masking = card_masking

    async def summarise(self, context: DraftContext) -> Summary:
        """The extractive summary, at once (``refine`` brings the LLM's)."""
        return await self.fallback.summarise(context)

    async def draft(self, context: DraftContext) -> str:
        """The extractive draft, at once (``refine`` brings the LLM's)."""
        return await self.fallback.draft(context)

    async def refine(self, context: DraftContext) -> Refined:
        """The LLM's summary and draft, each falling back on its own; never raises."""
        summary_part, draft_part = await asyncio.gather(
            self.llm_summary(context), self.llm_draft(context), return_exceptions=True
        )
        if isinstance(summary_part, BaseException):
            logger.exception("LLM summary failed unexpectedly", exc_info=summary_part)
            summary_part = (await self._fell_back("summary", "error", context), "error")
        if isinstance(draft_part, BaseException):
            logger.exception("LLM draft failed unexpectedly", exc_info=draft_part)
            draft_part = (await self._fell_back("draft", "error", context), "", "error")
        (summary, s_fail), (draft, warning, d_fail) = summary_part, draft_part
        fallbacks = tuple(f for f in (s_fail, d_fail) if f)
        return Refined(summary, draft, warning, len(fallbacks) < 2, fallbacks)

    async def aclose(self) -> None:
        await self.client.aclose()

    def masker(self) -> Masker:
        return Masker(
            enabled=self.settings.mask_personal_data, patterns=self.settings.mask_patterns
        )

    def data_of(self, context: DraftContext, masker: Masker) -> dict[str, Any]:
        """The quoted data sent to the provider, masked, within the prompt budget."""
        budget = self.settings.max_input_chars
        passages = [
            {
                "id": m.article_id,
                "title": m.title,
                "url": m.url,
                "text": masker.mask(passage_text(m)[: budget // 4]),
            }
            for m in usable_matches(context)
        ]
        used = sum(len(p["text"] or "") for p in passages)
        turns = clipped_turns(context.customer_texts, max(budget - used, budget // 4))
        return {
            "customer_messages": [masker.mask(t) for t in turns],
            "open_question": [masker.mask(t) for t in context.question][-3:],
            "customer_goal": masker.mask(context.goal),
            "open_needs": [masker.mask(t) for t in context.needs][:3],
            "bot_already_answered_with": list(context.bot_answers),
            "escalation_reasons": [r.value for r in context.reasons],
            "sensitive_topics": list(context.topics),
            "passages": passages,
        }

    async def llm_summary(self, context: DraftContext) -> tuple[Summary, str | None]:
        """The LLM's summary, or the extractive one and the failure reason."""
        masker = self.masker()
        try:
            out = await self.client.structured(
                SummaryOut, messages_for("summary", self.data_of(context, masker))
            )
        except LLMFailure as failure:
            return await self._fell_back("summary", failure.reason, context), failure.reason

        def shown(text: str) -> str:
            return masker.unmask(text, redacted=self.card_masking)

        _, trend = sentiment_of(context.frustration)
        facts = [
            *topic_facts(context.topics),
            *(shown(f) for f in out.key_facts),
            *(f"Tried: {shown(t)}" for t in out.tried),
        ]
        summary = Summary(
            intent=shown(out.intent),
            goal=shown(out.goal),
            sentiment=out.sentiment,
            trend=trend,
            key_facts=tuple(dict.fromkeys(facts)),
            bot_answers=context.bot_answers,
            topics=context.topics,
        )
        return summary, None

    async def llm_draft(self, context: DraftContext) -> tuple[str, str, str | None]:
        """The LLM's draft and its warning, or the extractive draft and the failure reason."""
        masker = self.masker()
        try:
            out = await self.client.structured(
                DraftOut, messages_for("draft", self.data_of(context, masker))
            )
        except LLMFailure as failure:
            return await self._fell_back("draft", failure.reason, context), "", failure.reason
        text = draft_with_care(compose(out, usable_matches(context), masker), context.topics)
        grounding = ground(text, context, masker)
        if grounding.ok:
            return text, "", None
        if self.settings.on_unverified == "replace":
            extractive = await self._fell_back("draft", "unverified", context)
            return extractive, f"{grounding.warning} (the LLM draft was replaced)", "unverified"
        return text, grounding.warning, None

    async def _fell_back(self, purpose: str, reason: str, context: DraftContext) -> Any:
        provider, model = self.client.labels
        self.client.guard.metrics.llm_fallback(provider, model, purpose, reason)
        logger.info("LLM %s fell back to extractive: %s", purpose, reason)
        if purpose == "summary":
            return await self.fallback.summarise(context)
        return await self.fallback.draft(context)


def compose(out: DraftOut, matches: list[ArticleMatch], masker: Masker) -> str:
    """The draft's text: the reply unmasked, the check line where the passages do not cover
    the question, and the cited articles (only those that were given)."""
    reply = masker.unmask(out.reply.strip())
    cited = [m for m in matches if m.article_id in out.cited_article_ids]
    if (not out.covered or not cited) and not _CHECKS.search(reply):
        reply = f"{reply}\n\n{CHECK_LINE}"
    if cited:
        refs = "; ".join(f"{m.title} ({m.url})" if m.url else m.title for m in cited)
        reply = f"{reply}\n\nSources: {refs}"
    return reply


def ground(text: str, context: DraftContext, masker: Masker) -> Grounding:
    """The grounding check on a draft, with placeholders the masker never made, promises the
    passages do not make, and leaked instructions as unverified too."""
    passages = passages_of(context)
    conversation = [*context.customer_texts, *context.question]
    found = list(check(text, passages, conversation).unverified)
    found += masker.unknown_placeholders(text)
    found += promises(text, passages)
    if leaks_rules(text):
        found.append("text of the bot's instructions")
    return Grounding(tuple(dict.fromkeys(found)))

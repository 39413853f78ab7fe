"""Drafting work the engine shares between the customer's turns and people's: the drafter's
context (with a search for the goal and each open need), where a waiting escalation stands in
the queue, and a model's refinements and suggestions that arrive after the card is posted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot import wording
from bot.conversation import (
    ACTIVE_STATUSES,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    Summary,
    customer_texts,
)
from bot.drafting import DraftContext, Refiner, context_of, reason_codes
from bot.engine_base import CONTEXT_TURNS, MAX_RETRIES, EngineBase
from bot.errors import StoreConflict
from bot.facts import topic_facts
from bot.model import Decision
from bot.needs import needs_to_look_up
from bot.policy import conversation_topics
from bot.ports import Assistant, Change, NewMessage
from bot.queue import PICKUP_WINDOW, Standing, standing

QUEUE_LIMIT = 1000  # waiting escalations read to place a customer in the queue


OnCard = tuple[Escalation | None, tuple[NewMessage, ...]]
"""What a background draft puts on a card: the escalation's new version (if any), notes."""


class DraftWork(EngineBase):
    """Context, queue standing and background drafts (see ``ConversationEngine``)."""

    async def _context(
        self,
        history: Sequence[Message],
        decision: Decision,
        reasons: Sequence[str] = (),
        kept_topics: Sequence[str] = (),
    ) -> DraftContext:
        """The drafter's context, with a search for the goal and each open need (the latest
        message's search is reused when it is one of them); ``kept_topics``: the sensitive
        topics the card already shows."""
        return context_of(
            history,
            decision.retrieval,
            reason_codes(reasons) or tuple(decision.reasons),
            turns=CONTEXT_TURNS,
            trend=decision.signals.trend,
            lookups=await self.look_up(needs_to_look_up(history), decision.retrieval),
            overall=decision.signals.frustration,
            topics=conversation_topics(
                customer_texts(history),
                self.responder.config,
                [*kept_topics, *decision.signals.sensitive_topics],
            ),
        )

    async def _standing(self, escalation: Escalation) -> Standing:
        """Where a waiting escalation stands in the live queue (itself included)."""
        now = self.clock()
        waiting = [
            e
            for e in await self.store.escalations([EscalationStatus.OPEN], limit=QUEUE_LIMIT)
            if e.id != escalation.id
        ]
        pickups = await self.store.pickups(now - PICKUP_WINDOW)
        configured = self.config.expected_wait_minutes
        where = standing(escalation.id, [*waiting, escalation], pickups, now, configured)
        assert where is not None  # the escalation is in the list it is looked up in
        return where

    def _refine_later(self, escalation: Escalation, context: DraftContext) -> None:
        if isinstance(self.drafter, Refiner):
            self.later(self._refine(self.drafter, escalation.id, context, escalation.draft_version))

    async def _refine(
        self, refiner: Refiner, escalation_id: str, context: DraftContext, version: int
    ) -> None:
        """Put a refined summary and draft (an LLM's) on the card in place, unless the draft
        has moved on meanwhile (an agent's regenerate, a newer message); its warning goes on
        the card as an internal note."""
        refined = await refiner.refine(context)
        if not refined.by_llm:
            return
        notes = (NewMessage(Kind.WARNING, refined.warning),) if refined.warning else ()

        def refine(escalation: Escalation) -> OnCard | None:
            if escalation.draft_version != version:
                return None
            summary = kept_topics(refined.summary, escalation.summary.topics)
            updated = replace(
                escalation, summary=summary, draft=refined.draft, draft_version=version + 1
            )
            return updated, notes

        await self._onto_card(escalation_id, refine)

    async def _suggest(
        self, assistant: Assistant, escalation_id: str, context: DraftContext
    ) -> None:
        """A model's suggestions for the holding agent, as internal notes on the card."""
        suggestions = await assistant.suggest(context)
        if suggestions:
            notes = tuple(
                NewMessage(Kind.SUGGESTION, wording.suggested_reply(s)) for s in suggestions
            )
            await self._onto_card(escalation_id, lambda _: (None, notes))

    async def _onto_card(
        self, escalation_id: str, build: Callable[[Escalation], OnCard | None]
    ) -> None:
        """Apply what ``build`` makes of the escalation, as just read (a new version of it,
        notes), while it is active, retrying on conflicts; ``build`` returns None to give up."""
        for _ in range(MAX_RETRIES):
            escalation = await self.store.escalation(escalation_id)
            if escalation is None or escalation.status not in ACTIVE_STATUSES:
                return
            built = build(escalation)
            if built is None:
                return
            updated, notes = built
            conversation = await self._conversation(escalation.conversation_id)
            try:
                applied = await self.store.apply(
                    Change(conversation, escalation=updated, messages=notes)
                )
            except StoreConflict:
                continue
            await self.publish_agents("message", updated or escalation, applied.messages)
            return


def kept_topics(summary: Summary, topics: Sequence[str]) -> Summary:
    """``summary`` (a refinement built from an earlier context) with the sensitive topics the
    card shows now, and their facts: a topic a head read in a newer message stays."""
    extra = [topic for topic in topics if topic not in summary.topics]
    if not extra:
        return summary
    merged = (*summary.topics, *extra)
    facts = dict.fromkeys([*topic_facts(merged), *summary.key_facts])
    return replace(summary, topics=merged, key_facts=tuple(facts))

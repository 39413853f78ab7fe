"""The engine's customer side: a stored message in, then an answer, an escalation, or (while
people own the conversation) a refreshed card and live assist for the holding agent."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from bot import wording
from bot.actions import HISTORY
from bot.conversation import (
    ACTIVE_STATUSES,
    CUSTOMER_CLOSED,
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    Source,
    State,
)
from bot.drafting import (
    DraftContext,
    Refiner,
    articles_for,
    articles_of,
    context_of,
    passage_text,
    reason_codes,
)
from bot.engine_base import CONTEXT_TURNS, MAX_RETRIES, EngineBase
from bot.errors import StoreConflict
from bot.events import CustomerEvent, customer_topic
from bot.learning import Outcome
from bot.model import UNSURE, Decision, EscalationReason
from bot.needs import needs_to_look_up, question_of
from bot.policy import failure_loop
from bot.ports import Assistant, Change, NewMessage
from bot.queue import PICKUP_WINDOW, Standing, standing
from bot.signals import MILD, NOT_HELPFUL, no_longer_needed

logger = logging.getLogger(__name__)
HANDLE_ATTEMPTS = 12  # turns tried on conflicts before the message is left to the sweep
BACKOFF_BASE_S = 0.05  # the first retry waits up to this, doubling up to BACKOFF_CAP_S
BACKOFF_CAP_S = 2.0
QUEUE_LIMIT = 1000  # waiting escalations read to place a customer in the queue
FRUSTRATION = EscalationReason.FRUSTRATION


class CustomerTurns(EngineBase):
    """Handles customers' messages (see ``ConversationEngine``)."""

    async def handle(self, message: Message) -> bool:
        """Answer, escalate, or assist the agent, depending on who owns the conversation.

        Exactly once across replicas: the message is claimed first (a lease, renewed while the
        turn runs) and skipped when it is handled already or another replica holds it; the
        change that handles it fails if someone handled it meanwhile. Returns True when this
        call handled it. A turn that keeps conflicting backs off and retries, then releases
        the message for the recovery sweep (``recover``); one that raises keeps its lease
        until it ends, which spaces the retries of a message that keeps failing."""
        if message.id in self._handling:
            return False  # already being handled here (a sweep met a turn in progress)
        self._handling.add(message.id)
        try:
            if not await self._claim(message):
                logger.info(
                    "message handled or being handled elsewhere; skipped",
                    extra={"message_id": message.id},
                )
                return False
            renewing = asyncio.create_task(self._keep_claimed(message))
            try:
                async with self._locks[message.conversation_id]:
                    return await self._handle_claimed(message)
            finally:
                renewing.cancel()
                await asyncio.gather(renewing, return_exceptions=True)
        finally:
            self._handling.discard(message.id)

    async def _claim(self, message: Message) -> bool:
        now = self.clock()
        until = now + timedelta(seconds=self.config.lease_seconds)
        return await self.store.claim_message(message.id, self.owner, until, now=now)

    async def _keep_claimed(self, message: Message) -> None:
        """Renew the lease every third of it while the turn runs (a slow model, a long queue)."""
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            try:
                if not await self._claim(message):
                    return  # handled (this turn's own change) or taken over: nothing to keep
            except Exception:
                logger.warning("renewing a message's lease failed", exc_info=True)

    async def _handle_claimed(self, message: Message) -> bool:
        for attempt in range(HANDLE_ATTEMPTS):
            try:
                await self._handle_once(message)
                return True
            except StoreConflict:
                logger.info(
                    "conversation changed meanwhile; retrying",
                    extra={"conversation": message.conversation_id, "attempt": attempt + 1},
                )
            await asyncio.sleep(backoff(attempt))
            if not await self._claim(message):
                return False  # another replica handled it meanwhile (its lease had ended)
        logger.error(
            "could not handle a message for conflicts; released for the recovery sweep",
            extra={"message_id": message.id, "conversation": message.conversation_id},
        )
        await self.store.release_message(message.id, self.owner)
        return False

    async def _handle_once(self, message: Message) -> None:
        conversation = await self._conversation(message.conversation_id)
        history = await self.store.recent(conversation.id, HISTORY)
        earlier = [m for m in history if m.id < message.id]
        audit: list[AuditEntry] = []
        if conversation.state is State.RESOLVED:
            audit.append(self._audit(conversation, "customer", "reopen", State.BOT))
            conversation = replace(conversation, state=State.BOT)
        if conversation.state is State.BOT:
            await self._answer_or_escalate(conversation, message, earlier, audit)
        else:
            await self._update_escalation(conversation, message, earlier)

    async def _answer_or_escalate(
        self,
        conversation: Conversation,
        message: Message,
        earlier: list[Message],
        audit: list[AuditEntry],
    ) -> None:
        await self.bus.publish(customer_topic(conversation.id), CustomerEvent.typing().to_dict())
        customer_before = [m.text for m in earlier if m.kind is Kind.CUSTOMER]
        decision = await asyncio.to_thread(self.responder.respond, message.text, customer_before)
        last_reply = next((m for m in reversed(earlier) if m.kind is not Kind.CUSTOMER), None)
        not_helpful = bool(NOT_HELPFUL.search(message.text))
        after_answer = last_reply is not None and last_reply.kind is Kind.ANSWER
        rejected = (
            await self._rejected(conversation, earlier) if not_helpful and after_answer else None
        )
        decision, failed = failure_loop(
            decision,
            not_helpful=not_helpful,
            after_answer=after_answer,
            last_article=conversation.last_answer_article,
            failed_turns=conversation.failed_turns,
            max_failed_turns=self.config.max_failed_turns,
        )
        if decision.action == "answer" and decision.answer:
            answer = decision.answer
            updated = replace(
                conversation, failed_turns=failed, last_answer_article=answer.article_id
            )
            reply = NewMessage(
                Kind.ANSWER,
                await self.answer_text(message.text, answer),
                sources=(Source(answer.title, answer.url),),
            )
            applied = await self.store.apply(
                Change(
                    updated,
                    messages=(reply,),
                    audit=tuple(audit),
                    handled=message.id,
                    outcome=rejected,
                )
            )
            self.metrics.answered()
            await self.publish_public(conversation.id, applied.messages)
            return
        await self._escalate(
            replace(conversation, failed_turns=failed), message, earlier, decision, audit, rejected
        )

    async def _rejected(self, conversation: Conversation, earlier: list[Message]) -> Outcome | None:
        """The bot's last answer, which the customer just said did not help, as an outcome."""
        article = conversation.last_answer_article
        answers = [i for i, m in enumerate(earlier) if m.kind is Kind.ANSWER]
        question = question_of(earlier[: answers[-1]]) if answers else ""
        if not article or not question:
            return None
        retrieval = await asyncio.to_thread(self.responder.retriever.search, question)
        best = retrieval.best
        if best is None or best.article_id != article:
            return None
        return Outcome(
            question=question,
            article_id=article,
            confidence=retrieval.confidence,
            correct=False,
            source="customer_rejected",
            conversation_id=conversation.id,
            at=self.clock(),
        )

    async def _escalate(
        self,
        conversation: Conversation,
        message: Message,
        earlier: list[Message],
        decision: Decision,
        audit: list[AuditEntry],
        outcome: Outcome | None = None,
    ) -> None:
        reasons = tuple(r.value for r in decision.reasons)
        context = await self._context([*earlier, message], decision)
        escalation = Escalation(
            id=uuid.uuid4().hex,
            conversation_id=conversation.id,
            status=EscalationStatus.OPEN,
            reasons=reasons,
            summary=await self.drafter.summarise(context),
            articles=articles_for(context) or articles_of(decision.retrieval),
            draft=await self.drafter.draft(context),
            draft_version=1,
            created_at=self.clock(),
        )
        where = await self._standing(escalation)
        notice = NewMessage(Kind.ESCALATED, wording.wait_notice(where.position, where.minutes))
        audit.append(
            self._audit(
                conversation,
                "bot",
                "escalate",
                State.ESCALATED,
                escalation_id=escalation.id,
                detail=",".join(reasons),
            )
        )
        applied = await self.store.apply(
            Change(
                replace(conversation, state=State.ESCALATED, holder=None),
                escalation=escalation,
                messages=(notice,),
                audit=tuple(audit),
                handled=message.id,
                outcome=outcome,
            )
        )
        self.metrics.escalated(reasons)
        logger.info("escalated", extra={"conversation": conversation.id, "reasons": reasons})
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents("opened", escalation)
        self._refine_later(escalation, context)

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
        for _ in range(MAX_RETRIES):
            escalation = await self.store.escalation(escalation_id)
            if escalation is None or escalation.draft_version != version:
                return
            if escalation.status not in ACTIVE_STATUSES:
                return
            conversation = await self._conversation(escalation.conversation_id)
            updated = replace(
                escalation, summary=refined.summary, draft=refined.draft, draft_version=version + 1
            )
            notes = (NewMessage(Kind.WARNING, refined.warning),) if refined.warning else ()
            try:
                applied = await self.store.apply(
                    Change(conversation, escalation=updated, messages=notes)
                )
            except StoreConflict:
                continue
            await self.publish_agents("message", updated, applied.messages)
            return

    async def _update_escalation(
        self, conversation: Conversation, message: Message, earlier: list[Message]
    ) -> None:
        """While people own the conversation the card keeps up with the customer: reasons,
        sentiment, transcript and the draft are re-read over the whole conversation. A customer
        waiting for a person gets a reply (an answer to a new routine question, else where they
        stand) and can close the wait; a holding agent gets knowledge and frustration warnings
        while the bot stays silent."""
        escalation = await self.store.active_escalation(conversation.id)
        customer_before = [m.text for m in earlier if m.kind is Kind.CUSTOMER]
        decision = await asyncio.to_thread(self.responder.respond, message.text, customer_before)
        if escalation is None or escalation.status not in ACTIVE_STATUSES:
            await self.store.apply(Change(conversation, handled=message.id))
            return
        waiting = conversation.state is State.ESCALATED
        if waiting and no_longer_needed(message.text) and not decision.signals.human_request:
            await self._close_wait(conversation, escalation, message)
            return
        reasons = grown_reasons(escalation.reasons, decision.reasons)
        history = [*earlier, message]
        replies: list[NewMessage] = []
        answer = (
            await self._routine_answer(conversation, message, earlier, decision)
            if waiting
            else None
        )
        if answer is not None:
            replies.append(answer)
            history.append(self._as_message(conversation.id, answer))
        context = await self._context(history, decision, reasons)
        draft = await self.drafter.draft(context)
        updated = replace(
            escalation,
            reasons=reasons,
            summary=await self.drafter.summarise(context),
            articles=articles_for(context) or escalation.articles,
        )
        if draft.strip() != escalation.draft.strip():
            updated = replace(updated, draft=draft, draft_version=escalation.draft_version + 1)
        if waiting:
            where = await self._standing(updated)
            if answer is not None:
                replies.append(NewMessage(Kind.ESCALATED, wording.ANSWERED_WHILE_WAITING))
            else:
                upset = FRUSTRATION in decision.reasons or _latest(decision) >= MILD
                replies.append(
                    NewMessage(
                        Kind.ESCALATED,
                        wording.still_waiting(
                            where.position,
                            where.minutes,
                            upset=upset,
                            asked_for_person=decision.signals.human_request,
                        ),
                    )
                )
        else:
            replies.extend(self._assist(decision, context))
            if isinstance(self.drafter, Assistant):
                self.later(self._suggest(self.drafter, escalation.id, context))
        applied = await self.store.apply(
            Change(conversation, escalation=updated, messages=tuple(replies), handled=message.id)
        )
        if answer is not None:
            self.metrics.answered()
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents("message", updated, (message, *applied.messages))
        if updated.draft_version != escalation.draft_version:
            self._refine_later(updated, context)

    async def _routine_answer(
        self,
        conversation: Conversation,
        message: Message,
        earlier: Sequence[Message],
        decision: Decision,
    ) -> NewMessage | None:
        """An answer to a new routine question asked while waiting, when the bot is confident
        and nothing in this message calls for a person (``answer_while_waiting``)."""
        if not self.config.answer_while_waiting:
            return None
        retrieval, signals = decision.retrieval, decision.signals
        best = retrieval.best
        if best is None or retrieval.confidence < retrieval.threshold:
            return None
        if signals.human_request or signals.complaint or signals.sensitive_topics:
            return None
        if _latest(decision) >= self.config.frustration_threshold:
            return None
        if NOT_HELPFUL.search(message.text):
            return None
        answered = {m.sources[0].title for m in earlier if m.kind is Kind.ANSWER and m.sources}
        if best.title in answered or best.article_id == conversation.last_answer_article:
            return None  # not a new question: never repeat an answer
        return NewMessage(Kind.ANSWER, passage_text(best), sources=(Source(best.title, best.url),))

    def _as_message(self, conversation_id: str, new: NewMessage) -> Message:
        return Message(0, conversation_id, new.kind, new.text, self.clock(), new.sources)

    async def _close_wait(
        self, conversation: Conversation, escalation: Escalation, message: Message
    ) -> None:
        """The customer no longer needs a person: the wait closes and the card says so."""
        closed = replace(
            escalation,
            status=EscalationStatus.RESOLVED,
            first_action_at=escalation.first_action_at or self.clock(),
        )
        entry = self._audit(
            conversation,
            "customer",
            CUSTOMER_CLOSED,
            State.RESOLVED,
            channel=conversation.channel,
            escalation_id=escalation.id,
        )
        applied = await self.store.apply(
            Change(
                replace(conversation, state=State.RESOLVED, holder=None, failed_turns=0),
                escalation=closed,
                messages=(
                    NewMessage(Kind.RESOLVED, wording.WAIT_CLOSED),
                    NewMessage(Kind.NOTE, wording.CLOSED_BY_CUSTOMER),
                ),
                audit=(entry,),
                handled=message.id,
            )
        )
        self.metrics.wait_closed()
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents(CUSTOMER_CLOSED, closed, (message, *applied.messages))

    async def _suggest(
        self, assistant: Assistant, escalation_id: str, context: DraftContext
    ) -> None:
        """A model's suggestions for the holding agent, as internal notes on the card."""
        suggestions = await assistant.suggest(context)
        if not suggestions:
            return
        notes = tuple(NewMessage(Kind.SUGGESTION, wording.suggested_reply(s)) for s in suggestions)
        for _ in range(MAX_RETRIES):
            escalation = await self.store.escalation(escalation_id)
            if escalation is None or escalation.status not in ACTIVE_STATUSES:
                return
            conversation = await self._conversation(escalation.conversation_id)
            try:
                applied = await self.store.apply(Change(conversation, messages=notes))
            except StoreConflict:
                continue
            await self.publish_agents("message", escalation, applied.messages)
            return

    def _assist(self, decision: Decision, context: DraftContext) -> list[NewMessage]:
        notes = []
        best = decision.retrieval.best
        if best is not None:
            titles = ", ".join(m.title for m in decision.retrieval.matches[:3])
            notes.append(
                NewMessage(
                    Kind.SUGGESTION,
                    wording.suggested_articles(titles, decision.retrieval.confidence),
                    sources=tuple(Source(m.title, m.url) for m in decision.retrieval.matches[:3]),
                )
            )
        scores = context.frustration
        rising = len(scores) >= 2 and scores[-1] > scores[-2]
        if scores and scores[-1] >= self.config.frustration_threshold and rising:
            notes.append(
                NewMessage(
                    Kind.WARNING,
                    wording.frustration_rising(scores[-1]),
                )
            )
        return notes

    async def _context(
        self, history: Sequence[Message], decision: Decision, reasons: Sequence[str] = ()
    ) -> DraftContext:
        """The drafter's context, with a search for the goal and each open need (the latest
        message's search is reused when it is one of them)."""
        return context_of(
            history,
            decision.retrieval,
            reason_codes(reasons) or tuple(decision.reasons),
            turns=CONTEXT_TURNS,
            trend=decision.signals.trend,
            lookups=await self.look_up(needs_to_look_up(history), decision.retrieval),
        )


def grown_reasons(current: Sequence[str], fresh: Sequence[EscalationReason]) -> tuple[str, ...]:
    """The card's reasons and what the latest message adds: a request for a person, a
    complaint, frustration, a sensitive topic, a loop (not another "unsure")."""
    added = [r.value for r in fresh if r not in UNSURE]
    return tuple(dict.fromkeys([*current, *added]))


def _latest(decision: Decision) -> float:
    """The latest message's own frustration."""
    trend = decision.signals.trend
    return trend[-1] if trend else decision.signals.frustration


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt + 1``: "full jitter" (uniform up to a doubling
    cap), so that writers who conflicted do not meet again in step."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))

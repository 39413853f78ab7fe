"""The engine while people own a conversation: the card keeps up with every customer message,
a customer waiting for a person is answered or told where they stand (and may close the wait),
and an agent holding it gets knowledge and frustration warnings while the bot stays silent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from bot import wording
from bot.conversation import (
    ACTIVE_STATUSES,
    CUSTOMER_CLOSED,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    Source,
    State,
    customer_turns_since_people,
)
from bot.courtesy import Courtesy, courtesy_only
from bot.drafting import DraftContext, articles_for
from bot.drafts import DraftWork
from bot.model import UNSURE, Decision, EscalationReason
from bot.phrases import NOT_HELPFUL, no_longer_needed
from bot.ports import Assistant, Change, NewMessage
from bot.signals import CARE_TOPICS, MILD, negative

FRUSTRATION = EscalationReason.FRUSTRATION


class PeopleTurns(DraftWork):
    """Customer messages while people own the conversation (see ``ConversationEngine``)."""

    async def _update_escalation(
        self, conversation: Conversation, message: Message, earlier: list[Message]
    ) -> None:
        """While people own the conversation the card keeps up with the customer: reasons,
        sentiment, transcript and the draft are re-read over the whole conversation. A customer
        waiting for a person gets a reply (an answer to a new routine question, else where they
        stand) and can close the wait; a holding agent gets knowledge and frustration warnings
        while the bot stays silent."""
        escalation = await self.store.active_escalation(conversation.id)
        customer_before = customer_turns_since_people(earlier)
        decision = await asyncio.to_thread(self.responder.respond, message.text, customer_before)
        if escalation is None or escalation.status not in ACTIVE_STATUSES:
            await self.store.apply(Change(conversation, handled=message.id))
            return
        waiting = conversation.state is State.ESCALATED
        keeps_waiting = decision.signals.human_request or CARE_TOPICS & set(
            decision.signals.sensitive_topics
        )
        if waiting and no_longer_needed(message.text) and not keeps_waiting:
            # Not "never mind, I want to end it all": a person still answers.
            await self._close_wait(conversation, escalation, message)
            return
        said = courtesy_only(message.text, decision) if waiting else None
        if said is not None:
            await self._courtesy_while_waiting(conversation, escalation, message, decision, said)
            self.metrics.courteous(said.value)
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
        context = await self._context(history, decision, reasons, escalation.summary.topics)
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
            if answer is not None:
                replies.append(NewMessage(Kind.WAITING, wording.ANSWERED_WHILE_WAITING))
            else:
                replies.append(await self._still_waiting(updated, decision))
        else:
            replies.extend(self._assist(decision, context, message.text))
            if isinstance(self.drafter, Assistant):
                self.later(self._suggest(self.drafter, escalation.id, context))
        applied = await self.store.apply(
            Change(
                conversation,
                escalation=updated,
                messages=tuple(replies),
                handled=message.id,
                answered=self._answered(conversation, decision) if answer else None,
            )
        )
        if answer is not None:
            self.metrics.answered()
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents("message", updated, (message, *applied.messages))
        if updated.draft_version != escalation.draft_version:
            self._refine_later(updated, context)

    async def _courtesy_while_waiting(
        self,
        conversation: Conversation,
        escalation: Escalation,
        message: Message,
        decision: Decision,
        said: Courtesy,
    ) -> None:
        """A greeting, thanks, "ok" or "are you a bot?" while waiting for a person: where they
        stand (after what the bot is, to "are you a bot?"), and the card shows it; the draft and
        summary are not read again (nothing new was asked; with an LLM drafter, no call)."""
        reply = await self._still_waiting(escalation, decision)
        replies = (
            (NewMessage(Kind.COURTESY, wording.IDENTITY), reply)
            if said is Courtesy.IDENTITY
            else (reply,)
        )
        applied = await self.store.apply(Change(conversation, messages=replies, handled=message.id))
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents("message", escalation, (message, *applied.messages))

    async def _still_waiting(self, escalation: Escalation, decision: Decision) -> NewMessage:
        """Where a waiting customer stands in the queue, said gently when they are upset
        ("fine." after a long wait) and acknowledging a request for a person."""
        where = await self._standing(escalation)
        upset = FRUSTRATION in decision.reasons or _latest(decision) >= MILD
        return NewMessage(
            Kind.WAITING,
            wording.with_care(
                wording.still_waiting(
                    where.position,
                    where.minutes,
                    upset=upset,
                    asked_for_person=decision.signals.human_request,
                ),
                decision.signals.sensitive_topics,
            ),
        )

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
        return await self.answer(message.text, best)

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

    def _assist(self, decision: Decision, context: DraftContext, text: str) -> list[NewMessage]:
        """What a holding agent is told beside the customer's message: the articles that may
        answer it, a warning when frustration rises (``_rising``), and one when the customer may
        be at risk."""
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
        level = self._rising(decision, context, text)
        if level is not None:
            notes.append(NewMessage(Kind.WARNING, wording.frustration_rising(level)))
        if "crisis" in decision.signals.sensitive_topics:
            notes.append(NewMessage(Kind.WARNING, wording.AT_RISK))
        return notes

    def _rising(self, decision: Decision, context: DraftContext, text: str) -> float | None:
        """The frustration to warn a holding agent of, if it rises: the message reads over the
        threshold and more than the one before, or it is mildly negative (``negative``: "still
        not working", "that didn't help") while the conversation reads over the threshold (a
        run of such turns adds up though none reaches it alone)."""
        scores, threshold = context.frustration, self.config.frustration_threshold
        own = scores[-1] if scores else decision.signals.frustration
        over = decision.signals.frustration
        if own >= threshold and len(scores) >= 2 and own > scores[-2]:
            return max(own, over)
        if over >= threshold and negative(own, text):
            return over
        return None


def grown_reasons(current: Sequence[str], fresh: Sequence[EscalationReason]) -> tuple[str, ...]:
    """The card's reasons and what the latest message adds: a request for a person, a
    complaint, frustration, a sensitive topic, a loop (not another "unsure")."""
    added = [r.value for r in fresh if r not in UNSURE]
    return tuple(dict.fromkeys([*current, *added]))


def _latest(decision: Decision) -> float:
    """The latest message's own frustration."""
    trend = decision.signals.trend
    return trend[-1] if trend else decision.signals.frustration

"""The engine's customer side: a stored message in, then an answer or an escalation while the
bot owns the conversation (``bot.waiting`` while people own it)."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot import wording
from bot.actions import HISTORY
from bot.conversation import (
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    State,
    customer_turns_since_people,
)
from bot.courtesy import Courtesy, courtesy_only
from bot.drafting import articles_for, articles_of
from bot.errors import StoreConflict
from bot.events import CustomerEvent, customer_topic
from bot.learning import CUSTOMER_REJECTED, NotedQuestion, Outcome, Verdict
from bot.model import UNSURE, Decision, EscalationReason
from bot.needs import asks_customer, last_reply, question_of
from bot.phrases import NOT_HELPFUL
from bot.policy import failure_loop
from bot.ports import Change, NewMessage
from bot.waiting import PeopleTurns

logger = logging.getLogger(__name__)
HANDLE_ATTEMPTS = 12  # turns tried on conflicts before the message is left to the sweep
BACKOFF_BASE_S = 0.05  # the first retry waits up to this, doubling up to BACKOFF_CAP_S
BACKOFF_CAP_S = 2.0
MIN_HELD = timedelta(seconds=1)  # a lease stored by ``receive`` with less left is claimed anew
NO_REJECTION: tuple[Outcome | None, Verdict | None] = (None, None)
WRITE_BACK_WINDOW = timedelta(hours=24)
"""A customer writing within this of an agent's reply writes back to it (``followed_agent``)."""
WROTE_BACK = EscalationReason.WROTE_BACK


class CustomerTurns(PeopleTurns):
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
            held = self._received.pop(message.id, None)
            if held is None or held - self.clock() < MIN_HELD:
                held = await self._claim(message)
            if held is None:
                logger.info(
                    "message handled or being handled elsewhere; skipped",
                    extra={"message_id": message.id},
                )
                return False
            renewing = asyncio.create_task(self._keep_claimed(message, held))
            try:
                async with self._locks[message.conversation_id]:
                    return await self._handle_claimed(message)
            except Exception:
                await self._claim(message)  # a whole lease before the sweep tries it again
                raise
            finally:
                renewing.cancel()
                await asyncio.gather(renewing, return_exceptions=True)
        finally:
            self._handling.discard(message.id)

    async def _claim(self, message: Message) -> datetime | None:
        """Lease ``message`` for a whole lease from now; None when someone else holds it or it
        is handled."""
        now = self.clock()
        until = now + timedelta(seconds=self.config.lease_seconds)
        claimed = await self.store.claim_message(message.id, self.owner, until, now=now)
        return until if claimed else None

    async def _keep_claimed(self, message: Message, until: datetime) -> None:
        """Renew the lease while the turn runs (a slow model, a long queue): every third of a
        lease, and sooner while the lease held is shorter (the one ``receive`` stored)."""
        while True:
            left = (until - self.clock()).total_seconds()
            await asyncio.sleep(min(self.config.lease_seconds / 3, max(0.2, left / 2)))
            try:
                renewed = await self._claim(message)
            except Exception:
                logger.warning("renewing a message's lease failed", exc_info=True)
                continue
            if renewed is None:
                return  # handled (this turn's own change) or taken over: nothing to keep
            until = renewed

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
            if await self._claim(message) is None:
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
        if conversation.state in (State.BOT, State.RESOLVED):
            await self._answer_or_escalate(conversation, message, earlier)
        else:
            await self._update_escalation(conversation, message, earlier)

    async def _answer_or_escalate(
        self, conversation: Conversation, message: Message, earlier: list[Message]
    ) -> None:
        """In the bot's hands (a resolved conversation is reopened by anything but courtesy):
        the bot's own line for courtesy, an answer when it is confident, else a person."""
        await self.bus.publish(customer_topic(conversation.id), CustomerEvent.typing().to_dict())
        customer_before = customer_turns_since_people(earlier)
        decision = await asyncio.to_thread(self.responder.respond, message.text, customer_before)
        agent_reply = followed_agent(earlier, message.created_at)
        # After an agent wrote, a closing in the customer's own words is the agent's.
        said = courtesy_only(message.text, decision, own_words=agent_reply is None)
        asked = agent_reply is not None and asks_customer(agent_reply.text)
        if said is not None and not (
            (asked and said is Courtesy.ACK)  # "ok" to an agent's question is the agent's
            or (agent_reply is not None and said is Courtesy.IDENTITY)  # a person just wrote
        ):
            await self._courteous(conversation, message, said)
            return
        audit: list[AuditEntry] = []
        if conversation.state is State.RESOLVED:
            audit.append(self._audit(conversation, "customer", "reopen", State.BOT))
            conversation = replace(conversation, state=State.BOT)
        if agent_reply is not None:
            decision = following_up(decision, asked=asked)
        decided = decision
        noted = (  # told once stored: not on a retry; a reply to an agent is no KB question
            None if agent_reply is not None else self.responder.noted(decided, message.text)
        )
        told = last_reply(earlier)
        not_helpful = bool(NOT_HELPFUL.search(message.text))
        after_answer = told is not None and told.kind is Kind.ANSWER
        rejected = NO_REJECTION
        if not_helpful and after_answer:
            rejected = await self._rejected(conversation, earlier)
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
            reply = await self.answer(message.text, answer)
            applied = await self.store.apply(
                Change(
                    updated,
                    messages=(reply,),
                    audit=tuple(audit),
                    handled=message.id,
                    outcome=rejected[0],
                    verdict=rejected[1],
                    answered=self._answered(conversation, decision),
                    noted=noted,
                )
            )
            self.responder.observe(noted)
            self.metrics.answered()
            await self.publish_public(conversation.id, applied.messages)
            return
        await self._escalate(
            replace(conversation, failed_turns=failed),
            message,
            earlier,
            decision,
            audit,
            rejected,
            noted=noted,
        )
        self.responder.observe(noted)

    async def _courteous(
        self,
        conversation: Conversation,
        message: Message,
        said: Courtesy,
    ) -> None:
        """A greeting, thanks, "ok" or "are you a bot?" gets a line of the bot's own, not a
        person. A resolved conversation stays resolved ("thanks!" after the resolution notice
        reopens nothing)."""
        line = {Courtesy.GREETING: wording.GREETED, Courtesy.IDENTITY: wording.IDENTITY}.get(
            said, wording.WELCOME
        )
        applied = await self.store.apply(
            Change(
                conversation,
                messages=(NewMessage(Kind.COURTESY, line),),
                handled=message.id,
            )
        )
        self.metrics.courteous(said.value)
        await self.publish_public(conversation.id, applied.messages)

    async def _rejected(
        self, conversation: Conversation, earlier: list[Message]
    ) -> tuple[Outcome | None, Verdict | None]:
        """The bot's last answer, which the customer just said did not help: the verdict on it,
        and an outcome at the confidence it was given with (none if no question is known)."""
        answer = await self.store.latest_answer(conversation.id)
        if answer is None or answer.id is None:
            return NO_REJECTION
        if answer.article_id != conversation.last_answer_article:
            return NO_REJECTION
        verdict = Verdict(answer.id, CUSTOMER_REJECTED)
        answers = [i for i, m in enumerate(earlier) if m.kind is Kind.ANSWER]
        question = question_of(earlier[: answers[-1]]) if answers else ""
        if not question:
            return None, verdict
        outcome = Outcome(
            question,
            answer.article_id,
            answer.confidence,
            False,
            CUSTOMER_REJECTED,
            conversation.id,
            answer.at or self.clock(),  # when its confidence was decided: the answer's time
        )
        return outcome, verdict

    async def _escalate(
        self,
        conversation: Conversation,
        message: Message,
        earlier: list[Message],
        decision: Decision,
        audit: list[AuditEntry],
        rejected: tuple[Outcome | None, Verdict | None] = NO_REJECTION,
        noted: NotedQuestion | None = None,
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
        passed = WROTE_BACK in decision.reasons
        notice = NewMessage(
            Kind.ESCALATED,
            wording.with_care(
                (wording.passed_back if passed else wording.wait_notice)(
                    where.position, where.minutes
                ),
                decision.signals.sensitive_topics,
            ),
        )
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
                outcome=rejected[0],
                verdict=rejected[1],
                noted=noted,
            )
        )
        self.metrics.escalated(reasons)
        logger.info("escalated", extra={"conversation": conversation.id, "reasons": reasons})
        await self.publish_public(conversation.id, applied.messages)
        await self.publish_agents("opened", escalation)
        self._refine_later(escalation, context)


def followed_agent(earlier: Sequence[Message], written: datetime) -> Message | None:
    """The agent's reply a customer's message ``written`` then writes back to: the last thing
    the customer was told, not long before (``WRITE_BACK_WINDOW``; by when the message was
    stored, so a retry or a late sweep reads it alike). None after the bot's answer or a
    notice (handed back, resolved)."""
    told = last_reply(earlier)
    if told is None or told.kind is not Kind.AGENT_MESSAGE:
        return None
    return told if written - told.created_at <= WRITE_BACK_WINDOW else None


def following_up(decision: Decision, *, asked: bool) -> Decision:
    """A customer writing back after an agent's reply: what the bot was unsure of is a
    follow-up for people. After the agent asked them something, it goes to people even when
    the knowledge base would answer ("size 10. do you do free returns?" answers the agent)."""
    if decision.action == "answer" and not asked:
        return decision
    kept = tuple(r for r in decision.reasons if r not in UNSURE)
    return replace(decision, action="escalate", answer=None, reasons=(*kept, WROTE_BACK))


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt + 1``: "full jitter" (uniform up to a doubling
    cap), so that writers who conflicted do not meet again in step."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))

"""Learned knowledge: agents teach the bot, admins (or trusted agents) accept what is taught.

* An agent's edited answer becomes a suggested article (``kind="answer"``).
* An agent who answers an escalation tags the article it was (``kind="variant"``: the customer's
  question joins that article as a question variant) or says the knowledge base has no answer
  (``kind="not_in_kb"``: a gap to fill). A trusted agent's tag applies at once.
* Each tag, and each bot answer a customer rejects, is a live outcome; enough of them move the
  answer threshold (``bot.learning.live_estimate``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot import wording
from bot.conversation import (
    ActionKind,
    AgentAction,
    Escalation,
    Kind,
    KnowledgeSuggestion,
    Message,
)
from bot.engine import ConversationEngine
from bot.errors import UnknownConversation
from bot.facts import scrub
from bot.learning import (
    AGENT_CONFIRMED,
    AGENT_CORRECTED,
    Answered,
    LiveEstimate,
    Outcome,
    Verdict,
    live_estimate,
)
from bot.needs import question_of, waits_on_latest_answer
from config import LearningSettings
from integrations.storage.learning import LearningStore
from knowledge.base import KnowledgeBase
from knowledge.learned import add_question_variants
from knowledge.traffic import REFIT_TOLERANCE, WINDOW

if TYPE_CHECKING:
    from integrations.metrics import PrometheusMetrics

NOT_IN_KB = "not_in_kb"
ANSWERS_READ = 50_000
"""The newest answers the live estimate weighs (a week or more of a busy contact centre)."""
ANSWER_WINDOW = timedelta(days=14)
"""How far back answers are weighed. A bot silenced by rejections gives no new answers, so
without a window the old rejections would keep it silent until they are deleted; with one it
answers again after two weeks (a fix taught meanwhile gets its chance) and is raised again if
customers still reject it."""
NOTED_KEPT = 5 * WINDOW
"""Noted questions kept in the database (the newest): a window's worth several times over, so
that a refit that moves the calibrated threshold and one that moves it back both find theirs."""
logger = logging.getLogger(__name__)


class TagError(ValueError):
    """The tag names an article the knowledge base does not have."""


class ReviewError(ValueError):
    """A review that contradicts itself: a right answer with another article named, or a wrong
    one whose right article is the one it was given with."""


class AlreadyReviewed(Exception):
    """The answer was reviewed already; the first review holds."""


@dataclass(frozen=True)
class Tagged:
    """What a tag did: the suggestion it made and whether it was applied at once."""

    suggestion_id: int
    question: str
    article_id: str | None
    accepted: bool


class SuggestionStore(Protocol):
    """Learned answers awaiting an admin. Implemented by ``integrations.storage.SqlStore``."""

    async def suggestions(self, status: str = "pending") -> list[KnowledgeSuggestion]: ...
    async def suggestion(self, suggestion_id: int) -> KnowledgeSuggestion | None: ...
    async def set_suggestion_status(self, suggestion_id: int, old: str, new: str) -> bool: ...


def _title(question: str) -> str:
    first = re.split(r"(?<=[.?!])\s+", question.strip())[0]
    return first[:120] or "Learned answer"


def escalation_history(history: Sequence[Message]) -> Sequence[Message]:
    """The conversation up to its latest escalation notice."""
    notices = [i for i, m in enumerate(history) if m.kind is Kind.ESCALATED]
    return history[: notices[-1]] if notices else history


def escalated_question(history: Sequence[Message]) -> str:
    """The question the customer was waiting on when the bot escalated: their open needs at
    the escalation notice (``bot.needs``: no greetings, venting or "that didn't help"); when
    none were open (they asked for a person after an answer), the need the last reply closed.
    Emails, phone numbers and order numbers are left out: it may become a question variant.
    """
    return scrub(question_of(escalation_history(history)))


async def tag_article(
    *,
    engine: ConversationEngine,
    learning: LearningStore,
    knowledge_base: KnowledgeBase,
    settings: LearningSettings,
    escalation_id: str,
    article_id: str | None,
    agent: str,
    channel: str,
    metrics: PrometheusMetrics | None = None,
    agent_name: str | None = None,
) -> Tagged:
    """An agent says which article answered an escalation (None: not in the knowledge base).

    ``agent`` is the agent's stable id (what trusted agents are listed by); ``agent_name``
    their display name, which the card's history and notes show (``agent`` when absent).

    The live estimate is refreshed at once, and shown in ``metrics``.

    Raises:
        UnknownConversation: no such escalation.
        TagError: the article does not exist.
    """
    escalation = await engine.store.escalation(escalation_id)
    if escalation is None:
        raise UnknownConversation("escalation", escalation_id)
    articles = await asyncio.to_thread(knowledge_base.store.passages_by_article)
    if article_id is not None and article_id not in articles:
        raise TagError(f"no article {article_id!r} in the knowledge base")
    history = await engine.store.recent(escalation.conversation_id, 500)
    before = escalation_history(history)
    question = escalated_question(history)
    top = escalation.articles[0] if escalation.articles else None
    if top is not None and question:
        await learning.record(
            Outcome(
                question=question,
                article_id=top.article_id,
                confidence=top.confidence,
                correct=article_id is not None and top.article_id == article_id,
                source="agent_tag" if article_id else NOT_IN_KB,
                conversation_id=escalation.conversation_id,
                at=escalation.created_at,  # when its confidence was decided, not tagged
            )
        )
    await _judge_latest_answer(
        engine, learning, escalation, before, question=question, article_id=article_id
    )
    suggestion_id, trusted = await _teach(
        learning,
        knowledge_base,
        settings,
        question=question,
        article_id=article_id,
        agent=agent,
        conversation_id=escalation.conversation_id,
    )
    title = articles[article_id].title if article_id else wording.NOT_IN_KB_TITLE
    await engine.act(
        escalation_id,
        AgentAction(
            ActionKind.NOTE,
            agent_name or agent,
            channel,
            wording.TAGGED.format(title=title)
            + (" (applied)" if trusted else " (waiting for an admin)"),
            f"tag:{escalation_id}:{article_id}:{agent}",
        ),
    )
    await refresh_live_threshold(learning, knowledge_base, settings, metrics)
    return Tagged(suggestion_id, question, article_id, trusted)


async def _teach(
    learning: LearningStore,
    knowledge_base: KnowledgeBase,
    settings: LearningSettings,
    *,
    question: str,
    article_id: str | None,
    agent: str,
    conversation_id: str,
) -> tuple[int, bool]:
    """Suggest ``question`` as a variant of ``article_id`` (None: not in the knowledge base),
    applied at once for a trusted agent; the suggestion's id and whether it was applied."""
    trusted = agent in settings.trusted_agents and article_id is not None
    suggestion_id = await learning.suggest(
        question=question,
        agent=agent,
        conversation_id=conversation_id,
        kind="variant" if article_id else NOT_IN_KB,
        article_id=article_id,
        status="accepted" if trusted else "pending",
    )
    if trusted and article_id and question:
        await asyncio.to_thread(add_question_variants, knowledge_base, {article_id: [question]})
    return suggestion_id, trusted


async def review_answer(
    *,
    learning: LearningStore,
    knowledge_base: KnowledgeBase,
    settings: LearningSettings,
    answer_id: int,
    right: bool,
    article_id: str | None,
    agent: str,
    metrics: PrometheusMetrics | None = None,
) -> Answered:
    """An agent reviews one of the bot's answers drawn at random: right, or wrong. A wrong
    answer whose right article the agent names (``article_id``) teaches its question to that
    article, as a tag does. The live estimate is refreshed at once.

    Each answer is reviewed once: the first review holds, and teaches once.

    Raises:
        UnknownConversation: no such answer.
        AlreadyReviewed: it was reviewed already.
        ReviewError: a right answer names an article, or a wrong one the article it was given
            with.
        TagError: the article does not exist.
    """
    answer = await learning.answer(answer_id)
    if answer is None:
        raise UnknownConversation("answer", str(answer_id))
    if answer.review is not None:
        raise AlreadyReviewed(answer_id)
    if right and article_id is not None:
        raise ReviewError("a right answer names no other article")
    if article_id is not None and article_id == answer.article_id:
        raise ReviewError(f"{article_id!r} is the article the wrong answer was given with")
    if article_id is not None:
        articles = await asyncio.to_thread(knowledge_base.store.passages_by_article)
        if article_id not in articles:
            raise TagError(f"no article {article_id!r} in the knowledge base")
    if article_id is not None and answer.question:
        # Taught before the review lands: should teaching fail, the answer stays unreviewed
        # and the agent can grade it again (the other way round, the teach would be lost).
        await _teach(
            learning,
            knowledge_base,
            settings,
            question=scrub(answer.question),
            article_id=article_id,
            agent=agent,
            conversation_id=answer.conversation_id,
        )
    if not await learning.review(answer_id, right=right, reviewer=agent):
        raise AlreadyReviewed(answer_id)  # another agent's review landed first
    await refresh_live_threshold(learning, knowledge_base, settings, metrics)
    return answer


async def _judge_latest_answer(
    engine: ConversationEngine,
    learning: LearningStore,
    escalation: Escalation,
    before: Sequence[Message],
    *,
    question: str,
    article_id: str | None,
) -> None:
    """While the customer still waits on what the bot's latest answer answered (they rejected
    it, or asked for a person after it), the agent's tag judges that answer: right if it names
    the article answered with (a customer's rejection is void), else wrong (corrected)."""
    answer = await engine.store.latest_answer(escalation.conversation_id)
    if answer is None or answer.id is None or not waits_on_latest_answer(before):
        return
    if answer.at is not None and answer.at > escalation.created_at:
        return  # an answer after this escalation: not what it was about
    if answer.article_id == article_id:
        await learning.judge(Verdict(answer.id, AGENT_CONFIRMED))
        return
    await learning.judge(Verdict(answer.id, AGENT_CORRECTED))
    if question:
        await learning.record(
            Outcome(
                question,
                answer.article_id,
                answer.confidence,
                False,
                AGENT_CORRECTED,
                escalation.conversation_id,
                answer.at,  # when its confidence was decided, not corrected
            )
        )


async def accept_suggestion(
    store: SuggestionStore, knowledge_base: KnowledgeBase, suggestion_id: int
) -> KnowledgeSuggestion | None:
    """Apply a pending suggestion; None if it is not pending.

    An answer becomes an FAQ article, a variant joins its article, a "not in the knowledge
    base" is only marked as seen.
    """
    suggestion = await store.suggestion(suggestion_id)
    if suggestion is None or suggestion.status != "pending":
        return None
    if not await store.set_suggestion_status(suggestion_id, "pending", "accepted"):
        return None
    if suggestion.kind == NOT_IN_KB:
        return suggestion
    if suggestion.kind == "variant" and suggestion.article_id:
        learned = {suggestion.article_id: [suggestion.question]}
        await asyncio.to_thread(add_question_variants, knowledge_base, learned)
        return suggestion
    folder = knowledge_base.data_dir / "learned"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"suggestion-{suggestion_id}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in article_rows(suggestion)), "utf-8")
    report = await asyncio.to_thread(knowledge_base.ingest, [Path(path)])
    if report.failed:
        await store.set_suggestion_status(suggestion_id, "accepted", "pending")
        raise RuntimeError(f"could not ingest suggestion {suggestion_id}: {report.failed[0][1]}")
    return suggestion


async def settled_as(store: SuggestionStore, suggestion_id: int) -> str | None:
    """What became of a suggestion that is no longer pending: ``accepted`` (or being
    accepted: the status changes before the refit, and goes back if it fails) or ``rejected``
    (a second click, or another admin first); None when there is no such suggestion."""
    found = await store.suggestion(suggestion_id)
    return found.status if found is not None and found.status != "pending" else None


def not_pending(suggestion_id: int, settled: str | None) -> str:
    """Why suggestion ``suggestion_id`` cannot be accepted or rejected, in a few words."""
    if settled == "accepted":
        return f"suggestion #{suggestion_id} was already accepted (or is being accepted now)"
    if settled:
        return f"suggestion #{suggestion_id} was already {settled}"
    return f"no pending suggestion #{suggestion_id}"


def article_rows(suggestion: KnowledgeSuggestion) -> list[dict[str, str]]:
    """The knowledge-base rows an accepted answer becomes: the model's proposed article when
    there is one (the customer's own question kept as a variant), else the agent's words."""
    proposal = suggestion.proposal
    base = {"id": f"learned-{suggestion.id}", "tags": "learned"}
    asked = scrub(suggestion.question)
    if not proposal:
        answer = scrub(suggestion.answer)
        return [base | {"question": asked, "answer": answer, "title": _title(asked)}]
    article = base | {"answer": proposal["answer"], "title": proposal["title"]}
    questions = dict.fromkeys([proposal["question"], asked])
    return [article | {"question": q} for q in questions]


async def reject_suggestion(store: SuggestionStore, suggestion_id: int) -> bool:
    return await store.set_suggestion_status(suggestion_id, "pending", "rejected")


async def estimate(
    learning: LearningStore, knowledge_base: KnowledgeBase, settings: LearningSettings
) -> LiveEstimate:
    """The live precision at the calibrated threshold, and the threshold outcomes call for:
    the newest tags, and the newest answers of the last ``ANSWER_WINDOW`` with what became
    known of each."""
    outcomes = await learning.outcomes()
    answered = await learning.answers(ANSWERS_READ, datetime.now(UTC) - ANSWER_WINDOW)
    return estimate_from(outcomes, answered, knowledge_base, settings)


def estimate_from(
    outcomes: Sequence[Outcome],
    answered: Sequence[Answered],
    knowledge_base: KnowledgeBase,
    settings: LearningSettings,
) -> LiveEstimate:
    """``live_estimate`` of ``outcomes`` (newest first) and the bot's answers, against the
    knowledge base's calibration. Only those decided on the scale in force are read: an outcome
    from before the confidence changed scale (``KnowledgeBase.scale_since``: the learned one
    took over, or gave way) is a confidence of the other model."""
    confidence = knowledge_base.confidence
    since = knowledge_base.scale_since
    if since is not None:
        # An outcome's time is when its confidence was decided (the escalation's or the
        # answer's), so a card decided before the change and tagged after it is not read.
        outcomes = [o for o in outcomes if o.at is None or o.at >= since]
        answered = [a for a in answered if a.at is None or a.at >= since]
    return live_estimate(
        outcomes,
        threshold=knowledge_base.base_threshold(),
        target=confidence.target_precision or 0.9,
        min_count=settings.min_live_outcomes,
        answered=answered,
    )


async def refresh_live_threshold(
    learning: LearningStore,
    knowledge_base: KnowledgeBase,
    settings: LearningSettings,
    metrics: PrometheusMetrics | None = None,
) -> LiveEstimate:
    """Move the answer threshold to what live outcomes call for, once there are enough, and
    show the estimate in ``metrics``."""
    found = await estimate(learning, knowledge_base, settings)
    if metrics is not None:
        metrics.live(found)
    if settings.live_recalibration and found.threshold != knowledge_base.live_threshold:
        logger.info(
            "live threshold",
            extra={
                "threshold": found.threshold,
                "calibrated": knowledge_base.confidence.threshold,
                "answers": found.answers,
                "rejected": found.rejected,
                "tagged_precision": found.precision,
                "tagged_samples": found.samples,
            },
        )
        knowledge_base.use_live_threshold(found.threshold)
    return found


async def forget_old_answers(learning: LearningStore, settings: LearningSettings) -> int:
    """Delete the answers older than ``answer_retention_days``; how many there were."""
    before = datetime.now(UTC) - timedelta(days=settings.answer_retention_days)
    return await learning.forget_answers(before)


async def share_traffic(learning: LearningStore, knowledge_base: KnowledgeBase) -> None:
    """Read the traffic window every replica writes (``knowledge.traffic``) into this one's
    knowledge base, after deleting what is past ``NOTED_KEPT`` (the knowledge base logs a
    change in the threshold it calls for)."""
    await learning.forget_noted(NOTED_KEPT)
    calibrated = knowledge_base.calibrated_threshold
    confidences = await learning.noted_confidences(WINDOW, calibrated, REFIT_TOLERANCE)
    knowledge_base.share_traffic(confidences, calibrated)

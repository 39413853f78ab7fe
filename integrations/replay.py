"""``tandem eval --replay``: the learning curve of the human in the loop.

Cases run in order, in blocks, each its own conversation, and are fed back as live traffic
would feed them:

* an escalated case is tagged by an agent: its article (its question joins that article as a
  question variant) or "not in the knowledge base";
* a wrong answer is rejected by the customer at ``rejection_rate`` (the rest are never heard
  of); the rejection escalates, and the agent tags that escalation as above, which corrects the
  answer;
* a right answer is never labelled, but every answer is counted at its confidence.

Each is recorded as the service records it (``bot.learning.live_estimate``): tags and
corrections as outcomes, a rejection as the verdict on its answer. At the end of a block the
knowledge base refits and recalibrates on what was taught, and the outcomes and answers move the
threshold, as they do live. Each block reports precision and deflection.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.conversation import Kind, Message
from bot.evaluation import Case, details_of, score_decisions
from bot.learning import AGENT_CORRECTED, CUSTOMER_REJECTED, Answered, Outcome
from bot.model import Decision
from bot.needs import question_of
from bot.policy import Responder
from config import LearningSettings
from integrations.learning import ANSWERS_READ, estimate_from
from knowledge.base import KnowledgeBase
from knowledge.learned import add_question_variants

OUTCOME_WINDOW = 5000
"""The newest outcomes the estimate reads, as ``LearningStore.outcomes`` does live."""
REJECTION_RATE = 0.5
"""The share of wrong answers a customer says did not help, by default."""


def question_in(case: Case) -> str:
    """The question an agent's tag of ``case`` would teach, as the service reads it (greetings,
    venting and a bare request for a person left out): empty when it asks nothing."""
    now = datetime.now(UTC)
    texts = [*case.turns, case.text]
    return question_of([Message(i, "replay", Kind.CUSTOMER, t, now) for i, t in enumerate(texts)])


def outcomes_of(
    case: Case, decision: Decision, conversation: str, *, rejected: bool
) -> tuple[list[Outcome], Answered | None]:
    """What live traffic would record of ``decision``: a tag of an escalation; an answer at its
    confidence, and for a wrong one the customer ``rejected``, the rejection (the verdict on
    the answer), and the agent's tag and correction of the escalation that follows."""
    best = decision.retrieval.best
    confidence = decision.retrieval.confidence
    answer = None
    if decision.action == "answer" and best is not None:
        answer = Answered(conversation, best.article_id, confidence)
    question = question_in(case)
    if best is None or case.expect is None or not question:
        return [], answer
    article = best.article_id
    right = case.expect == "answer" and article == case.article

    def outcome(source: str, correct: bool) -> Outcome:
        return Outcome(question, article, confidence, correct, source, conversation)

    tag = "agent_tag" if case.expect == "answer" else "not_in_kb"
    if decision.action == "escalate":
        return [outcome(tag, right)], answer
    if right or not rejected or answer is None:
        return [], answer
    return [
        outcome(CUSTOMER_REJECTED, False),
        outcome(tag, False),
        outcome(AGENT_CORRECTED, False),
    ], replace(answer, verdict=CUSTOMER_REJECTED)


def replay(
    responder: Responder,
    knowledge_base: KnowledgeBase,
    cases: list[Case],
    *,
    block: int = 100,
    progress: Callable[[], None] | None = None,
    learning: LearningSettings | None = None,
    rejection_rate: float = REJECTION_RATE,
    seed: int = 0,
    details: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run ``cases`` in blocks, teaching the knowledge base after each block.

    Args:
        responder: The live decision path, on ``knowledge_base``.
        knowledge_base: A temporary knowledge base (it is changed).
        cases: The cases, in the order traffic would bring them.
        block: Cases per block.
        progress: Called after each case.
        learning: Live recalibration's settings (the defaults when None).
        rejection_rate: The share of wrong answers customers reject (drawn with ``seed``).
        seed: Which wrong answers are rejected.
        details: Called with each case's ``details_of`` and its block, as it is decided
            (``tandem eval --replay --details``).

    Returns:
        ``blocks``: one row per block; ``overall``: the scores over all cases.
    """
    learning = learning or LearningSettings()
    known = set(knowledge_base.store.passages_by_article())
    draw = random.Random(seed)
    rows: list[dict[str, Any]] = []
    decisions: list[Decision] = []
    outcomes: list[Outcome] = []  # oldest first
    answered: list[Answered] = []
    for number, start in enumerate(range(0, len(cases), block), start=1):
        chunk = cases[start : start + block]
        made = []
        for case in chunk:
            decision = responder.respond(case.text, case.turns)
            # As live: the threshold may follow the traffic's share.
            responder.note(decision, case.text)
            made.append(decision)
            if details:
                details({**details_of(case, decision), "block": number})
            if progress:
                progress()
        decisions += made
        learned: dict[str, list[str]] = {}
        for index, (case, decision) in enumerate(zip(chunk, made, strict=True), start=start):
            rejected = decision.action == "answer" and draw.random() < rejection_rate
            recorded, answer = outcomes_of(case, decision, f"case-{index}", rejected=rejected)
            outcomes += recorded
            answered += [answer] if answer else []
            tags = [o for o in recorded if o.source == "agent_tag"]
            if tags and case.article in known:
                learned.setdefault(str(case.article), []).append(tags[0].question)
        scores = score_decisions(chunk, made)
        scale = knowledge_base.learned_confidence
        taught = add_question_variants(knowledge_base, learned) if learned else 0
        if knowledge_base.learned_confidence != scale:  # the taught variants crossed a bound:
            outcomes, answered = [], []  # what was decided so far is on the other scale
        # The newest first, as the store reads them.
        newest = outcomes[-OUTCOME_WINDOW:][::-1], answered[-ANSWERS_READ:][::-1]
        live = estimate_from(*newest, knowledge_base, learning)
        if learning.live_recalibration:
            knowledge_base.use_live_threshold(live.threshold)
        rows.append(
            {
                "block": number,
                "cases": len(chunk),
                "answer_precision": scores["answer_precision"],
                "deflection": scores["deflection"],
                "oos_escalation_recall": scores["oos_escalation_recall"],
                "taught": taught,
                "threshold": round(knowledge_base.base_threshold(), 4),
                "threshold_in_force": round(knowledge_base.threshold_in_force(), 4),
                "live_threshold": None if live.threshold is None else round(live.threshold, 4),
                "outcomes": len(outcomes),
                "rejected": live.rejected,
            }
        )
    return {"blocks": rows, "overall": score_decisions(cases, decisions)}

"""``tandem eval --replay``: the learning curve of the human in the loop.

Cases run in order, in blocks. Each escalated case is fed back as an agent's answer would be:
the agent tags the article (an admin accepts it) or says the knowledge base has none. At the
end of its block a tagged question joins that article as a question variant, and the knowledge
base refits and recalibrates, as it does live. Every tag is also a live outcome (was the bot's
top article right, at its confidence?), and so is a wrong answer, taken as rejected by the
customer; once there are enough, they move the threshold as they do live
(``bot.learning.live_estimate``). Each block reports precision and deflection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.evaluation import Case, score_decisions
from bot.learning import Outcome, live_estimate
from bot.model import Decision
from bot.policy import Responder
from config import LearningSettings
from knowledge.base import KnowledgeBase
from knowledge.learned import add_question_variants

OUTCOME_WINDOW = 5000
"""The newest outcomes the estimate reads, as ``LearningStore.outcomes`` does live."""


def outcome_of(case: Case, decision: Decision) -> Outcome | None:
    """What an agent (or the customer) would say of ``decision``: a tag for an escalation, a
    rejection for a wrong answer, nothing for a right answer (nobody says so)."""
    best = decision.retrieval.best
    if best is None or case.expect is None:
        return None
    right = case.expect == "answer" and best.article_id == case.article
    if decision.action == "escalate":
        source = "agent_tag" if case.expect == "answer" else "not_in_kb"
    elif not right:
        source = "customer_rejected"
    else:
        return None
    return Outcome(case.text, best.article_id, decision.retrieval.confidence, right, source)


def replay(
    responder: Responder,
    knowledge_base: KnowledgeBase,
    cases: list[Case],
    *,
    block: int = 100,
    progress: Callable[[], None] | None = None,
    learning: LearningSettings | None = None,
) -> dict[str, Any]:
    """Run ``cases`` in blocks, teaching the knowledge base after each block.

    Args:
        responder: The live decision path, on ``knowledge_base``.
        knowledge_base: A temporary knowledge base (it is changed).
        cases: The cases, in the order traffic would bring them.
        block: Cases per block.
        progress: Called after each case.
        learning: Live recalibration's settings (the defaults when None).

    Returns:
        ``blocks``: one row per block; ``overall``: the scores over all cases.
    """
    learning = learning or LearningSettings()
    known = set(knowledge_base.store.passages_by_article())
    rows: list[dict[str, Any]] = []
    decisions: list[Decision] = []
    outcomes: list[Outcome] = []
    for number, start in enumerate(range(0, len(cases), block), start=1):
        chunk = cases[start : start + block]
        made = []
        for case in chunk:
            made.append(responder.respond(case.text, case.turns))
            if progress:
                progress()
        decisions += made
        learned: dict[str, list[str]] = {}
        for case, decision in zip(chunk, made, strict=True):
            if decision.action == "escalate" and case.expect == "answer" and case.article in known:
                learned.setdefault(str(case.article), []).append(case.text)
            outcome = outcome_of(case, decision)
            if outcome is not None:
                outcomes.append(outcome)
        scores = score_decisions(chunk, made)
        taught = add_question_variants(knowledge_base, learned) if learned else 0
        live = live_estimate(
            outcomes[-OUTCOME_WINDOW:],
            threshold=knowledge_base.confidence.threshold,
            target=knowledge_base.confidence.target_precision or 0.9,
            min_count=learning.min_live_outcomes,
        )
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
                "threshold": round(knowledge_base.confidence.threshold, 4),
                "live_threshold": None if live.threshold is None else round(live.threshold, 4),
                "outcomes": len(outcomes),
            }
        )
    return {"blocks": rows, "overall": score_decisions(cases, decisions)}

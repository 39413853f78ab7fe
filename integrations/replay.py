"""``tandem eval --replay``: the learning curve of the human in the loop.

Cases run in order, in blocks. Each escalated case whose label names an article is fed back as
an agent's answer would be (the agent tags the article, an admin accepts it): at the end of its
block the question joins that article as a question variant, and the knowledge base refits and
recalibrates, as it does live. Each block reports precision and deflection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.evaluation import Case, score_decisions
from bot.model import Decision
from bot.policy import Responder
from knowledge.base import KnowledgeBase
from knowledge.learned import add_question_variants


def replay(
    responder: Responder,
    knowledge_base: KnowledgeBase,
    cases: list[Case],
    *,
    block: int = 100,
    progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run ``cases`` in blocks, teaching the knowledge base after each block.

    Args:
        responder: The live decision path, on ``knowledge_base``.
        knowledge_base: A temporary knowledge base (it is changed).
        cases: The cases, in the order traffic would bring them.
        block: Cases per block.
        progress: Called after each case.

    Returns:
        ``blocks``: one row per block; ``overall``: the scores over all cases.
    """
    known = set(knowledge_base.store.passages_by_article())
    rows: list[dict[str, Any]] = []
    decisions: list[Decision] = []
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
        scores = score_decisions(chunk, made)
        taught = add_question_variants(knowledge_base, learned) if learned else 0
        rows.append(
            {
                "block": number,
                "cases": len(chunk),
                "answer_precision": scores["answer_precision"],
                "deflection": scores["deflection"],
                "oos_escalation_recall": scores["oos_escalation_recall"],
                "taught": taught,
                "threshold": round(knowledge_base.confidence.threshold, 4),
            }
        )
    return {"blocks": rows, "overall": score_decisions(cases, decisions)}

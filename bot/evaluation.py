"""The evaluation harness behind ``tandem eval`` (DESIGN §5): cases through the live path."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)

from bot.model import Decision, EscalationReason
from bot.policy import Responder, decide, on_confidence

logger = logging.getLogger(__name__)


class CasesError(Exception):
    """The cases file is unreadable or malformed (names the file and line)."""


@dataclass(frozen=True)
class Case:
    """One evaluation case."""

    text: str
    expect: str | None
    article: str | None = None
    frustrated: bool | None = None
    turns: tuple[str, ...] = ()


class CaseRow(BaseModel):
    """One line of a cases file, validated (unknown keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    text: StrictStr
    expect: Literal["answer", "escalate"] | None = None
    article: StrictStr | None = None
    frustrated: StrictBool | None = None
    turns: list[StrictStr] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> CaseRow:
        if self.expect == "answer" and not self.article:
            raise ValueError("an 'answer' case needs 'article'")
        if self.expect is None and self.frustrated is None:
            raise ValueError("a case needs 'expect' or 'frustrated'")
        return self


_FIELD_MESSAGES = {
    "text": "a case needs a string 'text'",
    "expect": "'expect' must be 'answer' or 'escalate'",
}


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    if field in _FIELD_MESSAGES:
        return _FIELD_MESSAGES[field]
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"'{field}': {message}" if field else message


def read_cases(path: Path) -> list[Case]:
    """Parse a cases JSONL file; a bad line is named with its number and field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CasesError(f"{path}: cannot read ({error})") from error
    cases = []
    empty: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = CaseRow.model_validate_json(line)
        except ValidationError as error:
            if error.errors()[0]["type"] == "json_invalid":
                raise CasesError(f"{path}: line {number}: invalid JSON") from error
            raise CasesError(f"{path}: line {number}: {_explain(error)}") from error
        if not row.text.strip():
            empty.append(number)  # a customer cannot send one: the API refuses it
            continue
        cases.append(Case(row.text, row.expect, row.article, row.frustrated, tuple(row.turns)))
    if empty:
        logger.warning(
            "cases with empty text skipped", extra={"count": len(empty), "lines": empty[:10]}
        )
    if not cases:
        raise CasesError(f"{path}: no cases")
    return cases


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def score_decisions(cases: list[Case], decisions: list[Decision]) -> dict[str, Any]:
    """The answer-quality counts and ratios of DESIGN §5."""
    pairs = [(c, d) for c, d in zip(cases, decisions, strict=True) if c.expect]
    in_scope = sum(1 for c, _ in pairs if c.expect == "answer")
    out_scope = sum(1 for c, _ in pairs if c.expect == "escalate")
    answered = [(c, d) for c, d in pairs if d.action == "answer"]
    correct = sum(
        1
        for c, d in answered
        if c.expect == "answer" and d.answer and d.answer.article_id == c.article
    )
    escalated_oos = sum(1 for c, d in pairs if c.expect == "escalate" and d.action == "escalate")
    unsure = [d for d in decisions if on_confidence(d)]
    # The answer rate at the threshold the run started at (a threshold that follows the
    # traffic may rise during it): what the out-of-scope share is read from.
    start = decisions[0].retrieval.threshold if decisions else 0.0
    return {
        "cases": len(cases),
        "in_scope": in_scope,
        "out_of_scope": out_scope,
        "answered": len(answered),
        "correct": correct,
        "wrong": len(answered) - correct,
        "escalated": sum(1 for _, d in pairs if d.action == "escalate"),
        "answer_precision": _ratio(correct, len(answered)),
        "deflection": _ratio(correct, in_scope),
        "oos_escalation_recall": _ratio(escalated_oos, out_scope),
        "answer_rate": _ratio(sum(d.retrieval.confidence >= start for d in unsure), len(unsure)),
    }


def details_of(case: Case, decision: Decision) -> dict[str, Any]:
    """One case's outcome, for ``tandem eval --details``: what was asked, expected and decided."""
    best = decision.retrieval.best
    answered = decision.answer.article_id if decision.answer else None
    right: bool | None = None
    if case.expect == "answer":
        right = answered == case.article
    elif case.expect == "escalate":
        right = decision.action == "escalate"
    return {
        "text": case.text,
        "turns": list(case.turns),
        "expected": case.expect,
        "expected_article": case.article,
        "decision": decision.action,
        "article": answered or (best.article_id if best else None),
        "confidence": round(decision.retrieval.confidence, 4),
        "threshold": round(decision.retrieval.threshold, 4),
        "uncovered": None
        if decision.retrieval.uncovered is None
        else round(decision.retrieval.uncovered, 3),
        "reasons": [r.value for r in decision.reasons],
        "frustration": round(decision.signals.frustration, 3),
        "frustrated_label": case.frustrated,
        "right": right,
    }


def evaluate(
    responder: Responder,
    cases: list[Case],
    *,
    sweep: bool = False,
    progress: Callable[[], None] | None = None,
    details: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run every case through ``responder`` and score the results.

    Args:
        responder: The same responder that live conversations use.
        cases: Parsed cases.
        sweep: Also report precision and deflection over a grid of thresholds.
        progress: Called after each case.
        details: Called with each case's ``details_of``.
    """
    decisions: list[Decision] = []
    latencies: list[float] = []
    for case in cases:
        start = time.perf_counter()
        decision = responder.respond(case.text, case.turns)
        # As the live path does, so that the threshold may follow the cases.
        responder.note(decision, case.text)
        latencies.append((time.perf_counter() - start) * 1000)
        decisions.append(decision)
        if details:
            details(details_of(case, decision))
        if progress:
            progress()
    result = score_decisions(cases, decisions)
    labelled = [
        (c.frustrated, d) for c, d in zip(cases, decisions, strict=True) if c.frustrated is not None
    ]
    flagged = [(label, d) for label, d in labelled if _frustrated(d)]
    true_positive = sum(1 for label, _ in flagged if label)
    result["frustration_precision"] = _ratio(true_positive, len(flagged)) if labelled else None
    result["frustration_recall"] = (
        _ratio(true_positive, sum(1 for label, _ in labelled if label)) if labelled else None
    )
    result["threshold"] = round(decisions[0].retrieval.threshold, 4) if decisions else None
    result["latency_ms_p50"] = round(float(np.percentile(latencies, 50)), 2)
    result["latency_ms_p95"] = round(float(np.percentile(latencies, 95)), 2)
    if sweep:
        result["sweep"] = list(_sweep(cases, decisions, responder, np.linspace(0.05, 0.95, 19)))
    return result


def _frustrated(decision: Decision) -> bool:
    return any(
        r in (EscalationReason.FRUSTRATION, EscalationReason.COMPLAINT) for r in decision.reasons
    )


def _sweep(
    cases: list[Case], decisions: list[Decision], responder: Responder, grid: Iterable[float]
) -> Iterable[dict[str, Any]]:
    for threshold in grid:
        redone = [
            decide(d.retrieval, d.signals, responder.config, float(threshold)) for d in decisions
        ]
        scores = score_decisions(cases, redone)
        yield {
            "threshold": round(float(threshold), 3),
            "answer_precision": scores["answer_precision"],
            "deflection": scores["deflection"],
            "oos_escalation_recall": scores["oos_escalation_recall"],
        }

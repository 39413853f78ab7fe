from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import CasesError, evaluate, read_cases
from bot.model import ArticleMatch, Retrieval
from bot.policy import PolicyConfig, Responder


class TableRetriever:
    """Answers from a fixed table: text -> (article, confidence)."""

    def __init__(self, table: dict[str, tuple[str, float]]) -> None:
        self.table = table

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        article, confidence = self.table[text]
        match = ArticleMatch(article, article, None, "faq", 0.8, ("x",))
        return Retrieval(text, (match,), confidence, 0.5, 1.0)


def test_metrics_follow_the_contract(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    rows = [
        {"text": "q1", "expect": "answer", "article": "a"},  # correct
        {"text": "q2", "expect": "answer", "article": "b"},  # wrong article
        {"text": "q3", "expect": "answer", "article": "c"},  # escalated
        {"text": "q4", "expect": "escalate"},  # escalated: right
        {"text": "q5", "expect": "escalate"},  # answered: wrong
        {"text": "I am furious, this is useless!!", "frustrated": True},
        {"text": "thanks, lovely", "frustrated": False},
    ]
    cases.write_text("\n".join(json.dumps(r) for r in rows))
    table = {
        "q1": ("a", 0.9),
        "q2": ("a", 0.9),
        "q3": ("c", 0.1),
        "q4": ("a", 0.2),
        "q5": ("a", 0.7),
        "I am furious, this is useless!!": ("a", 0.1),
        "thanks, lovely": ("a", 0.1),
    }
    result = evaluate(
        Responder(retriever=TableRetriever(table), config=PolicyConfig()),
        read_cases(cases),
        sweep=True,
    )
    assert {
        k: result[k]
        for k in ("cases", "in_scope", "out_of_scope", "answered", "correct", "wrong", "escalated")
    } == {
        "cases": 7,
        "in_scope": 3,
        "out_of_scope": 2,
        "answered": 3,
        "correct": 1,
        "wrong": 2,
        "escalated": 2,
    }
    assert result["answer_precision"] == pytest.approx(1 / 3, abs=1e-3)
    assert result["deflection"] == pytest.approx(1 / 3, abs=1e-3)
    assert result["oos_escalation_recall"] == 0.5
    assert (result["frustration_precision"], result["frustration_recall"]) == (1.0, 1.0)
    assert result["latency_ms_p95"] >= result["latency_ms_p50"] >= 0
    strict = next(p for p in result["sweep"] if p["threshold"] == 0.8)
    assert strict["oos_escalation_recall"] == 1.0 and strict["deflection"] == pytest.approx(0.3333)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{bad", "line 1: invalid JSON"),
        ('{"text": "x", "expect": "maybe"}', "'expect' must be"),
        ('{"text": "x", "expect": "answer"}', "needs 'article'"),
        ('{"expect": "escalate"}', "needs a string 'text'"),
        ('{"text": "x", "expect": "escalate", "turns": "not a list"}', "'turns'"),
        ('{"text": "x", "frustrated": "yes"}', "'frustrated'"),
        ('{"text": "x"}', "needs 'expect' or 'frustrated'"),
    ],
)
def test_bad_cases_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(CasesError, match=message):
        read_cases(path)

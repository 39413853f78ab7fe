"""``tandem eval --replay``: escalated cases are taught back block by block, and a question asked
again after its block is answered."""

from __future__ import annotations

import json
from pathlib import Path

from bot.evaluation import Case
from integrations.composition import build_responder
from integrations.replay import replay
from knowledge.base import KnowledgeBase
from tests.conftest import settings_for
from tests.e2e.test_learning_loop import QUESTION, _faq


def test_replay_teaches_escalated_cases(tmp_path: Path, empty_kb: KnowledgeBase) -> None:
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    responder = build_responder(settings_for(tmp_path), empty_kb)
    cases = [Case(QUESTION, "answer", "instalments")] * 10 + [
        Case("do you repair antique clocks?", "escalate")
    ] * 10
    result = replay(responder, empty_kb, cases, block=10)
    first, second = result["blocks"]
    assert first["deflection"] == 0.0 and first["taught"] == 1
    assert second["oos_escalation_recall"] == 1.0
    again = replay(responder, empty_kb, [Case(QUESTION, "answer", "instalments")], block=10)
    assert again["overall"]["deflection"] == 1.0, "asked again after it was taught: answered"
    assert json.dumps(result)  # the CLI prints it as JSON

"""``tandem eval --replay``: escalated cases are taught back block by block, and a question asked
again after its block is answered."""

from __future__ import annotations

import json
from pathlib import Path

from bot.evaluation import Case
from bot.policy import Responder
from config import LearningSettings
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


def _escalated_once(tmp_path: Path, kb: KnowledgeBase) -> tuple[Responder, float]:
    kb.ingest([_faq(tmp_path / "faq.jsonl")])
    responder = build_responder(settings_for(tmp_path), kb)
    escalated = responder.respond(QUESTION, [])
    assert escalated.action == "escalate" and escalated.retrieval.best is not None
    assert escalated.retrieval.best.article_id == "instalments"
    return responder, escalated.retrieval.confidence


def test_replay_feeds_live_outcomes_back(tmp_path: Path, empty_kb: KnowledgeBase) -> None:
    """Every escalation is tagged and every wrong answer rejected, as live; once there are
    enough outcomes they move the threshold. Here the bot's guess on the escalated question was
    right each time, so the outcomes call for answering from that confidence down."""
    responder, confidence = _escalated_once(tmp_path, empty_kb)
    cases = [Case(QUESTION, "answer", "instalments")] * 10
    learning = LearningSettings(min_live_outcomes=10)
    [row] = replay(responder, empty_kb, cases, block=10, learning=learning)["blocks"]
    assert row["outcomes"] == 10
    assert row["live_threshold"] == round(confidence, 4)
    override = empty_kb.threshold_override()
    assert override is not None and round(override, 4) == row["live_threshold"]


def test_replay_without_live_recalibration_keeps_calibrations_threshold(
    tmp_path: Path, empty_kb: KnowledgeBase
) -> None:
    responder, confidence = _escalated_once(tmp_path, empty_kb)
    cases = [Case(QUESTION, "answer", "instalments")] * 10
    learning = LearningSettings(min_live_outcomes=10, live_recalibration=False)
    [row] = replay(responder, empty_kb, cases, block=10, learning=learning)["blocks"]
    assert row["live_threshold"] == round(confidence, 4), "estimated and reported"
    assert empty_kb.threshold_override() is None, "but not used"


def test_replay_hears_of_a_share_of_wrong_answers_as_the_service_would(
    tmp_path: Path, empty_kb: KnowledgeBase
) -> None:
    """A rejected wrong answer escalates and the agent tags it (the question is taught), so the
    service records a rejection, a tag and a correction, which count as one wrong answer; an
    unheard one records nothing; a bare request for a person teaches nothing."""
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    responder = build_responder(settings_for(tmp_path), empty_kb)
    wrong = Case("How long does delivery take?", "answer", "returns")
    person = Case("can I speak to a person please", "escalate")
    unheard = replay(responder, empty_kb, [wrong, person], block=10, rejection_rate=0.0)
    assert unheard["overall"]["answer_precision"] == 0.0, "answered, wrongly"
    [row] = unheard["blocks"]
    assert (row["outcomes"], row["rejected"], row["taught"]) == (0, 0, 0)
    heard = replay(responder, empty_kb, [wrong, person], block=10, rejection_rate=1.0)
    [row] = heard["blocks"]
    assert (row["outcomes"], row["rejected"], row["taught"]) == (3, 1, 1)
    again = replay(responder, empty_kb, [wrong], block=10, rejection_rate=0.0)
    assert again["overall"]["deflection"] == 0.0, "taught to another article: not answered"

"""``tandem eval`` on a small slice of the CLINC150 development data."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from integrations.cli import evaluate
from tests.conftest import SHARED_DATA
from tests.integrations.test_cli import run

INTENTS = [
    "translate",
    "transfer",
    "timer",
    "definition",
    "meaning_of_life",
    "insurance_change",
    "find_phone",
    "travel_alert",
    "pto_request",
    "improve_credit_score",
]


@pytest.fixture()
def clinc_slice(tmp_path: Path) -> tuple[Path, Path]:
    source = SHARED_DATA / "clinc150_dev.json"
    if not source.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{source} is missing in CI")
        pytest.skip("../shared/data is not beside this checkout")
    data = json.loads(source.read_text())
    faq = [
        {"id": i, "question": t, "answer": f"About {i}."} for t, i in data["train"] if i in INTENTS
    ]
    cases = [{"text": t, "expect": "answer", "article": i} for t, i in data["val"] if i in INTENTS]
    cases += [{"text": t, "expect": "escalate"} for t, _ in data["oos_val"][:40]]
    cases.append({"text": "you are useless, I am so angry!!", "frustrated": True})
    cases.append({"text": "thanks a lot", "frustrated": False})
    (tmp_path / "faq.jsonl").write_text("\n".join(json.dumps(r) for r in faq))
    (tmp_path / "cases.jsonl").write_text("\n".join(json.dumps(r) for r in cases))
    return tmp_path / "faq.jsonl", tmp_path / "cases.jsonl"


def test_eval_json_contract(clinc_slice: tuple[Path, Path], tmp_path: Path) -> None:
    faq, cases = clinc_slice
    result = run(["eval", "--kb", str(faq), "--cases", str(cases), "--json", "--sweep"], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cases"] == 242
    assert (report["in_scope"], report["out_of_scope"]) == (200, 40)
    assert report["answered"] == report["correct"] + report["wrong"]
    assert report["answer_precision"] >= 0.9
    assert report["deflection"] >= 0.8
    assert report["oos_escalation_recall"] >= 0.6
    assert report["frustration_precision"] == 1.0 and report["frustration_recall"] == 1.0
    assert 0 < report["latency_ms_p50"] <= report["latency_ms_p95"]
    assert len(report["sweep"]) == 19
    assert report["calibration"]["target_precision"] == 0.9
    # 40 of 240 questions out of scope: the share the answer rate implies is near a sixth
    assert 0.5 < report["answer_rate"] <= 1.0
    assert abs(report["estimated_out_of_scope_share"] - 40 / 240) <= 0.2
    assert report["threshold_at_end"] == report["threshold"], "a sixth moves nothing"
    assert not (tmp_path / "data").exists(), "eval must not touch the user's knowledge base"


def test_eval_follows_mostly_out_of_scope_traffic(
    clinc_slice: tuple[Path, Path], tmp_path: Path
) -> None:
    """Three quarters of the questions out of scope, where calibration assumed a half: once
    200 questions are in, the bot answers at a higher threshold, as it would live, and fewer
    of its answers are wrong than at the calibrated threshold alone."""
    faq, cases_file = clinc_slice
    data = json.loads((SHARED_DATA / "clinc150_dev.json").read_text())
    cases = [json.loads(line) for line in cases_file.read_text().splitlines()]
    inside = [c for c in cases if c.get("expect") == "answer"][:70]
    outside = [{"text": t, "expect": "escalate"} for t, _ in data["oos_val"] + data["oos_train"]]
    mixed = inside + outside
    random.Random(0).shuffle(mixed)
    busy = tmp_path / "busy.jsonl"
    busy.write_text("\n".join(json.dumps(c) for c in mixed))
    reports = []
    for follow in ("true", "false"):
        result = run(
            ["eval", "--kb", str(faq), "--cases", str(busy), "--json"],
            tmp_path,
            env={"TANDEM_KNOWLEDGE__FOLLOW_TRAFFIC_SHARE": follow},
        )
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(result.stdout))
    following, fixed = reports
    assert following["estimated_out_of_scope_share"] > 0.5
    assert following["threshold_at_end"] > following["threshold"] == fixed["threshold"]
    assert fixed["threshold_at_end"] == fixed["threshold"]
    assert following["wrong"] < fixed["wrong"]
    assert following["answer_precision"] > fixed["answer_precision"]


def test_eval_names_a_bad_cases_file(clinc_slice: tuple[Path, Path], tmp_path: Path) -> None:
    faq, _ = clinc_slice
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "expect": "answer"}\n')
    result = run(["eval", "--kb", str(faq), "--cases", str(bad)], tmp_path)
    assert result.returncode == 2
    assert f"{bad}: line 1: an 'answer' case needs 'article'" in result.stderr
    bad.write_text('{"text": " ", "expect": "escalate"}\n{"text": "hi", "expect": "escalate"}\n')
    empty = run(["eval", "--kb", str(faq), "--cases", str(bad), "--json"], tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert "cases with empty text skipped" in empty.stderr, "a customer cannot send one"
    assert json.loads(empty.stdout)["cases"] == 1


def test_eval_warns_of_articles_the_knowledge_base_lacks(
    clinc_slice: tuple[Path, Path], tmp_path: Path
) -> None:
    faq, _ = clinc_slice
    cases = tmp_path / "typo.jsonl"
    cases.write_text(
        json.dumps({"text": "set a timer for ten minutes", "expect": "answer", "article": "timr"})
    )
    result = run(["eval", "--kb", str(faq), "--cases", str(cases), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cases name 1 article(s) the knowledge base does not hold (timr)" in result.stderr
    assert json.loads(result.stdout)["cases"] == 1
    readable = run(["eval", "--kb", str(faq), "--cases", str(cases)], tmp_path)
    assert readable.returncode == 0, readable.stderr
    assert "answer precision" in readable.stdout and "1 (1 / 0)" in readable.stdout
    assert "--json" in readable.stdout, "a person is told where every figure is"


def test_eval_replay_prints_a_learning_curve(
    clinc_slice: tuple[Path, Path], tmp_path: Path
) -> None:
    faq, cases = clinc_slice
    command = ["eval", "--kb", str(faq), "--cases", str(cases), "--replay", "--block", "100"]
    details = tmp_path / "replayed.jsonl"
    result = run([*command, "--json", "--rejection-rate", "1", "--details", str(details)], tmp_path)
    assert result.returncode == 0, result.stderr
    blocks = json.loads(result.stdout)["blocks"]
    assert [b["cases"] for b in blocks] == [100, 100, 42]
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert [r["block"] for r in rows] == [1] * 100 + [2] * 100 + [3] * 42, "every case, in order"
    assert {"text", "expected", "decision", "confidence", "right"} <= set(rows[0])
    assert all(b["outcomes"] > 0 for b in blocks), "each escalation is tagged back"
    assert [b["outcomes"] for b in blocks] == sorted(b["outcomes"] for b in blocks)
    for b in blocks:  # a live threshold, once there is one, is the one in force
        live = b["live_threshold"]
        assert b["threshold_in_force"] >= (b["threshold"] if live is None else live) - 1e-4
        assert live is None or b["threshold_in_force"] == live
    table = run(command, tmp_path)
    assert table.returncode == 0 and "force" in table.stderr  # the header wraps at 80 columns
    assert "242 (200 / 40)" in table.stdout, "the overall figures follow the curve"
    refused = run([*command, "--rejection-rate", "2"], tmp_path)
    assert refused.returncode == 2 and "--rejection-rate" in refused.stderr


def test_the_replay_curve_keeps_every_header_whole_in_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log or a pipe is 80 columns wide: the nine headers are read whole, not cut."""
    monkeypatch.setattr(evaluate.console, "_width", 80)
    row = {
        "block": 10,
        "cases": 100,
        "answer_precision": 0.953,
        "deflection": 0.512,
        "taught": 120,
        "rejected": 3,
        "threshold": 0.7134,
        "live_threshold": None,
        "threshold_in_force": 0.712,
    }
    evaluate._print_curve([row])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].split() == [
        "block", "cases", "precision", "deflection", "taught", "rejected", "calibrated", "live",
        "in", "force",
    ]  # fmt: skip
    assert all(len(line) <= 80 for line in lines) and "…" not in "".join(lines)

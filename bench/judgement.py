"""Answer quality and escalation judgement on the development sets, as the README reports them.

Usage: python bench/judgement.py [--data ../shared/data] [--out DIR] [--only NAME ...] [--replay]
       [--cold-start]

Builds the FAQ and cases files (bench/datasets.py), runs ``tandem eval --json --details`` on
each with the calibrated default (nothing is tuned on the cases; the threshold does not follow
these sorted files), and prints one row per set.
For the cases of CLINC150, BANKING77-OOS and banking77 (with the small knowledge bases built from
them too) it also reports the precision and deflection at
out-of-scope shares of 25, 50, 60 and 75 %, computed from the per-case details by weighting the
out-of-scope cases (what subsampling the in-scope ones gives in expectation; an answer the
coverage check escalates stays escalated): at the calibrated
threshold, and at the one a full window (1,000 questions) of such traffic raises it to, with
the service's own rule (``knowledge.traffic``). The subsampled, shuffled case files are written
too, for ``tandem eval`` by hand; ``--cold-start`` runs it on them with following on, from an
empty window, as a new deployment would meet such traffic.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402

from bot.model import UNSURE  # noqa: E402
from bot.needs import asks_something  # noqa: E402
from bot.policy import MAX_UNCOVERED  # noqa: E402
from knowledge.calibration import ConfidenceModel  # noqa: E402
from knowledge.traffic import WINDOW, raised_threshold  # noqa: E402

SETS = {
    "clinc150": ("clinc150", "clinc150"),
    "banking77_oos": ("banking77_oos", "banking77_oos"),
    "bitext": ("bitext", "bitext"),
    "banking77": ("banking77", "banking77"),
    "banking77_5": ("banking77_5", "banking77_5"),
    "banking77_oos_5": ("banking77_oos_5", "banking77_oos"),
    "banking77_oos_10": ("banking77_oos_10", "banking77_oos"),
    "clinc150_10": ("clinc150_10", "clinc150"),
    "goemotions": ("bitext", "goemotions"),
}
# Replays of the human in the loop: knowledge base, cases in traffic order.
REPLAYS = {
    "bitext": ("bitext", "bitext_traffic"),  # 2,000 of Bitext's cases
    "banking77": ("banking77", "banking77_traffic"),
    "banking77_5": ("banking77_5", "banking77_5_traffic"),  # a small knowledge base
    # A small knowledge base whose out-of-scope questions sound like it (calibration misses).
    "banking77_oos_5": ("banking77_oos_5", "banking77_oos_traffic"),
}
SHARES = (0.25, 0.5, 0.6, 0.75)
SHARES_WRITTEN = (0.25, 0.5, 0.75)  # the shuffled share files bench/datasets.py writes
COLD_START_KEYS = ("cases", "answer_precision", "deflection", "threshold", "threshold_at_end")
# Sets whose escalations are all out of scope (Bitext's are requests for a person and
# complaints): their precision is also reported at other out-of-scope shares.
SHARE_SETS = ("clinc150", "banking77_oos", "banking77")
SHARE_CASES = (*SHARE_SETS, "banking77_5")  # and the small knowledge bases' own cases


def tandem() -> str:
    return str(Path(sys.executable).with_name("tandem"))


def run_eval(out: Path, kb: str, cases: str, *options: str, follow: bool = True) -> dict[str, Any]:
    command = [
        tandem(),
        "eval",
        "--kb",
        str(out / f"{kb}.faq.jsonl"),
        "--cases",
        str(out / f"{cases}.cases.jsonl"),
        "--json",
        *options,
    ]
    env = {**os.environ, "TANDEM_KNOWLEDGE__FOLLOW_TRAFFIC_SHARE": str(follow).lower()}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def at_share(
    rows: list[dict[str, Any]], calibration: dict[str, Any], share: float
) -> dict[str, Any]:
    """Precision and deflection if out-of-scope cases were ``share`` of the traffic (weighting
    them, which is what subsampling the in-scope ones gives in expectation): at the calibrated
    threshold (``fixed``), and at the one a full window of such traffic raises it to
    (``following``, ``knowledge.traffic.raised_threshold`` on the answer rate the weighted
    cases give)."""
    inside = [r for r in rows if r["expected"] == "answer"]
    outside = [r for r in rows if r["expected"] == "escalate"]
    weight = (share / (1 - share)) * len(inside) / max(len(outside), 1)
    model = ConfidenceModel(
        threshold=calibration["threshold"],
        target_precision=calibration["target_precision"],
        out_of_scope_share=calibration["out_of_scope_share"],
        acceptance=calibration["acceptance"],
        share_thresholds=calibration["share_thresholds"],
    )
    unsure = [r for r in rows if set(r["reasons"]) <= UNSURE]  # decided on confidence
    noted = [r for r in unsure if asks_something(r["text"])]  # what the service notes
    weights = [weight if r["expected"] == "escalate" else 1.0 for r in noted]
    answered = sum(
        w for r, w in zip(noted, weights, strict=True) if r["confidence"] >= model.threshold
    )
    rate = answered / sum(weights)
    raised = raised_threshold(model, rate, WINDOW)
    threshold = model.threshold if raised is None else raised
    result: dict[str, Any] = {"following_threshold": round(threshold, 4)}
    # The coverage check escalates whatever the confidence (where it is on).
    checked = [r for r in unsure if (r.get("uncovered") or 0.0) <= MAX_UNCOVERED]
    for name, cut in (("fixed", model.threshold), ("following", threshold)):
        yes = [r for r in checked if r["confidence"] >= cut]
        correct = sum(
            1 for r in yes if r["expected"] == "answer" and r["article"] == r["expected_article"]
        )
        wrong_in = sum(1 for r in yes if r["expected"] == "answer") - correct
        wrong_out = sum(1 for r in yes if r["expected"] == "escalate")
        total = correct + wrong_in + weight * wrong_out
        result[name] = {
            "precision": round(correct / total, 3) if total else None,
            "deflection": round(correct / max(len(inside), 1), 3),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", nargs="*", choices=sorted(SETS))
    parser.add_argument(
        "--replay",
        action="store_true",
        help="Also replay cases in traffic order (REPLAYS), tagging each escalated one back as "
        "an agent would, and print the learning curves (blocks of 250).",
    )
    parser.add_argument(
        "--cold-start",
        action="store_true",
        help="Also run `tandem eval` on the shuffled share files with following on, as a new "
        "deployment meets such traffic: the window starts empty, so the first "
        "TRAFFIC_MIN_QUESTIONS questions are answered at the calibrated threshold.",
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="tandem-judgement-"))
    out.mkdir(parents=True, exist_ok=True)
    for build in (
        datasets.clinc,
        datasets.bitext,
        datasets.banking77,
        datasets.banking77_oos,
        datasets.few_shot,
        datasets.goemotions,
        datasets.shares,
    ):
        build(args.data, out)
    report: dict[str, Any] = {}
    for name in args.only or SETS:
        kb, case_file = SETS[name]
        details = out / f"{name}.details.jsonl"
        # The main rows are calibration alone: their case files are sorted, out-of-scope
        # questions last, which no live traffic is (the share rows follow shuffled traffic).
        result = run_eval(out, kb, case_file, "--details", str(details), follow=False)
        row: dict[str, Any] = {
            key: result.get(key)
            for key in (
                "cases",
                "answer_precision",
                "deflection",
                "oos_escalation_recall",
                "frustration_precision",
                "frustration_recall",
                "threshold",
                "latency_ms_p50",
            )
        }
        if case_file in SHARE_CASES:
            rows = [json.loads(line) for line in details.read_text().splitlines()]
            row["by_share"] = {
                f"{int(share * 100)}%": at_share(rows, result["calibration"], share)
                for share in SHARES
            }
        precision, recall = row["frustration_precision"], row["frustration_recall"]
        if precision and recall:
            row["frustration_f1"] = round(2 * precision * recall / (precision + recall), 3)
        report[name] = row
        print(json.dumps({name: row}), flush=True)
    if args.cold_start:
        for name in SHARE_SETS:
            for share in SHARES_WRITTEN:
                cases = f"{name}_oos{int(share * 100)}"
                result = run_eval(out, SETS[name][0], cases)
                row = {key: result.get(key) for key in COLD_START_KEYS}
                report[f"{cases}_cold_start"] = row
                print(json.dumps({f"{cases}_cold_start": row}), flush=True)
    if args.replay:
        for name, (kb, traffic) in REPLAYS.items():
            curve = run_eval(out, kb, traffic, "--replay", "--block", "250")
            report[f"{name}_replay"] = curve["blocks"]
            for block in curve["blocks"]:
                print(json.dumps({f"{name}_replay": block}), flush=True)
    (out / "judgement.json").write_text(json.dumps(report, indent=2))
    print(f"files and details in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Answer quality and escalation judgement on the development sets, as the README reports them.

Usage: python bench/judgement.py [--data ../shared/data] [--out DIR] [--only NAME ...] [--replay]

Builds the FAQ and cases files (bench/datasets.py), runs ``tandem eval --json --details`` on
each with the calibrated default (nothing is tuned on the cases; the threshold does not follow
these sorted files), and prints one row per set.
For CLINC150, BANKING77-OOS and banking77 it also runs the cases with the in-scope ones
subsampled so that out-of-scope questions are 25 %, 50 % and 75 % of them, shuffled as traffic
comes in, and reports the precision and deflection there, with the threshold following the
share of out-of-scope questions it sees (as live) and without.
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
SHARES = (0.25, 0.5, 0.75)
# Sets also run with their in-scope cases subsampled to out-of-scope shares of 25, 50 and 75 %
# (``datasets.at_shares``, shuffled as traffic comes in); the threshold follows the traffic.
SHARE_SETS = ("clinc150", "banking77_oos", "banking77")
WARM_UP = 250  # cases before the out-of-scope share is read (200 questions decided on confidence)


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


def share_row(out: Path, kb: str, cases: str) -> dict[str, Any]:
    """One share file, with the threshold following the traffic and without; ``after_warm_up``
    leaves out the first ``WARM_UP`` cases, before the share can be read (200 questions)."""
    row: dict[str, Any] = {}
    for follow in (True, False):
        details = out / f"{cases}.{'following' if follow else 'fixed'}.details.jsonl"
        found = run_eval(out, kb, cases, "--details", str(details), follow=follow)
        rows = [json.loads(line) for line in details.read_text().splitlines()]
        row["following" if follow else "fixed"] = {
            "cases": found["cases"],
            "answer_precision": found["answer_precision"],
            "deflection": found["deflection"],
            "estimated_out_of_scope_share": found["estimated_out_of_scope_share"],
            "threshold_at_end": found["threshold_at_end"],
            "after_warm_up": precision_and_deflection(rows[WARM_UP:]),
        }
    return row


def precision_and_deflection(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    answered = [r for r in rows if r["decision"] == "answer"]
    right = sum(1 for r in answered if r["right"])
    inside = sum(1 for r in rows if r["expected"] == "answer")
    return {
        "cases": len(rows),
        "answer_precision": round(right / len(answered), 3) if answered else None,
        "deflection": round(right / inside, 3) if inside else None,
    }


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
        if name in SHARE_SETS:
            row["by_share"] = {
                f"{int(share * 100)}%": share_row(out, kb, f"{case_file}_oos{int(share * 100)}")
                for share in SHARES
            }
        precision, recall = row["frustration_precision"], row["frustration_recall"]
        if precision and recall:
            row["frustration_f1"] = round(2 * precision * recall / (precision + recall), 3)
        report[name] = row
        print(json.dumps({name: row}), flush=True)
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

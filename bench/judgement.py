"""Answer quality and escalation judgement on the development sets, as the README reports them.

Usage: python bench/judgement.py [--data ../shared/data] [--out DIR] [--only NAME ...] [--replay]

Builds the FAQ and cases files (bench/datasets.py), runs ``tandem eval --json --details`` on
each with the calibrated default (nothing is tuned on the cases), and prints one row per set.
For the sets whose escalations are all out of scope (CLINC150, BANKING77-OOS and banking77) it
also reports the precision at out-of-scope shares of 25 %, 50 % and 75 %:
computed from the per-case details by weighting the out-of-scope cases, which is what
subsampling the in-scope cases gives in expectation (the subsampled case files are written too,
for ``tandem eval`` by hand).
"""

from __future__ import annotations

import argparse
import json
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
# Sets whose escalations are all out-of-scope questions (Bitext's are requests for a person and
# complaints): their precision is also reported at out-of-scope shares of 25, 50 and 75 %.
SHARE_SETS = (
    "clinc150",
    "banking77_oos",
    "banking77",
    "banking77_5",
    "banking77_oos_5",
    "banking77_oos_10",
    "clinc150_10",
)


def tandem() -> str:
    return str(Path(sys.executable).with_name("tandem"))


def run_eval(out: Path, kb: str, cases: str, *options: str) -> dict[str, Any]:
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
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def at_share(rows: list[dict[str, Any]], share: float) -> dict[str, float]:
    """Precision and deflection if out-of-scope cases were ``share`` of the traffic."""
    inside = [r for r in rows if r["expected"] == "answer"]
    outside = [r for r in rows if r["expected"] == "escalate"]
    weight = (share / (1 - share)) * len(inside) / max(len(outside), 1)
    correct = sum(1 for r in inside if r["decision"] == "answer" and r["right"])
    wrong_in = sum(1 for r in inside if r["decision"] == "answer" and not r["right"])
    wrong_out = sum(1 for r in outside if r["decision"] == "answer")
    answered = correct + wrong_in + weight * wrong_out
    return {
        "precision": round(correct / answered, 3) if answered else float("nan"),
        "deflection": round(correct / max(len(inside), 1), 3),
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
        datasets.clinc_shares,
        datasets.bitext,
        datasets.banking77,
        datasets.banking77_oos,
        datasets.few_shot,
        datasets.goemotions,
    ):
        build(args.data, out)
    report: dict[str, Any] = {}
    for name in args.only or SETS:
        kb, case_file = SETS[name]
        details = out / f"{name}.details.jsonl"
        result = run_eval(out, kb, case_file, "--details", str(details))
        rows = [json.loads(line) for line in details.read_text().splitlines()]
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
            row["by_share"] = {f"{int(s * 100)}%": at_share(rows, s) for s in SHARES}
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

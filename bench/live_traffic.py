"""Small knowledge bases meeting live traffic: the held-out sets of ``bench/live_traffic*/``.

Usage: python bench/live_traffic.py [DIR ...]

Each DIR (default: every ``bench/live_traffic*`` folder) holds
``NAME.faq.jsonl`` and ``NAME.cases.jsonl`` pairs, written blind (the README of each says how).
Runs ``tandem eval`` on each pair with the calibrated default, as a new deployment meets its
first traffic, and prints one row per set: the traffic's out-of-scope share, the articles and
their median question variants, the calibrated threshold (and where following the traffic
left it), answer precision, deflection, and the
best deflection any threshold would have given at 0.9 precision (read from the per-case
details: what a perfect calibration could reach with this ranking, not a figure to tune on).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from judgement import run_eval  # noqa: E402

from bot.model import UNSURE  # noqa: E402

ROOT = Path(__file__).resolve().parent
DEFAULT_DIRS = tuple(sorted(d for d in ROOT.glob("live_traffic*") if d.is_dir()))


def best_deflection(rows: list[dict[str, Any]], target: float = 0.9) -> float:
    """The most in-scope questions answered right at any threshold that keeps ``target``
    (among the questions decided on confidence: a signal's escalation stays one)."""
    unsure = {reason.value for reason in UNSURE}
    ranked = sorted(
        (r for r in rows if set(r["reasons"]) <= unsure), key=lambda r: -float(r["confidence"])
    )
    in_scope = sum(1 for r in rows if r["expected"] == "answer")
    right = best = 0
    for count, row in enumerate(ranked, 1):
        right += row["expected"] == "answer" and row["article"] == row["expected_article"]
        if right / count >= target:
            best = max(best, right)
    return best / max(in_scope, 1)


def evaluated(
    dirs: Iterable[Path],
) -> Iterator[tuple[str, Path, dict[str, Any], list[dict[str, Any]]]]:
    """``tandem eval --details`` on every pair in ``dirs``: the set's label, its FAQ file, the
    summary and the per-case details."""
    for folder in dirs:
        for faq in sorted(folder.glob("*.faq.jsonl")):
            name = faq.name.removesuffix(".faq.jsonl")
            with tempfile.TemporaryDirectory() as temp:
                details = Path(temp) / "details.jsonl"
                result = run_eval(folder, name, name, "--details", str(details))
                rows = [json.loads(line) for line in details.read_text().splitlines()]
            yield f"{folder.name}/{name}", faq, result, rows


def folders(arguments: list[str]) -> list[Path]:
    """The folders named on the command line, else the default ones that exist."""
    return [Path(a) for a in arguments] or [d for d in DEFAULT_DIRS if d.exists()]


def main() -> None:
    print(
        "| set | cases | out of scope | articles (median variants) | threshold (at the end) "
        "| precision | deflection | best deflection at 0.9 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, faq, result, rows in evaluated(folders(sys.argv[1:])):
        variants = Counter(
            json.loads(line)["id"] for line in faq.read_text().splitlines() if line.strip()
        )
        share = result["out_of_scope"] / max(result["cases"], 1)
        print(
            f"| {label} | {result['cases']} | {share:.2f} | {len(variants)} "
            f"({statistics.median(variants.values()):g}) | {result['threshold']:.3f} "
            f"({result['threshold_at_end']:.3f}) | "
            f"{result['answer_precision']} | {result['deflection']} | "
            f"{best_deflection(rows):.3f} |"
        )


if __name__ == "__main__":
    main()

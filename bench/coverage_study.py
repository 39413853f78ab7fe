"""The coverage check (``knowledge.coverage``) on small knowledge bases, at several cut-offs.

Usage: python bench/coverage_study.py [DIR ...]

For each ``NAME.faq.jsonl`` / ``NAME.cases.jsonl`` pair in each DIR (default: the
``bench/live_traffic*`` folders), runs ``tandem eval --details`` with the calibrated default
and the coverage check off (``TANDEM_KNOWLEDGE__COVERAGE_CHECK=off``) and then, for each
answered case, measures how much of the question the chosen article speaks
to: the share of the question's content words, each weighted by its inverse article frequency,
that appear nowhere in the article's question variants and answer. Prints precision /
deflection without the check and with answers escalated above each share of missing words
(the service escalates above 0.4). A half was chosen on the first three folders, which had been
read before, and the fourth was read once after; 0.4 on all six, after the fifth and sixth,
read once each, fell under 0.90 at a half (README, *Small knowledge bases meeting live
traffic*).
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_traffic import evaluated, folders  # noqa: E402

from knowledge.coverage import ArticleWords  # noqa: E402

CUTS = (0.3, 0.35, 0.4, 0.45, 0.5)


def study(faq: Path, rows: list[dict[str, Any]]) -> list[str]:
    texts: dict[str, list[str]] = defaultdict(list)
    for line in faq.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            texts[row["id"]].append(f"{row['question']} {row.get('answer') or ''}")
    coverage = ArticleWords(texts)
    in_scope = sum(1 for r in rows if r["expected"] == "answer")
    cells = []
    for cut in (None, *CUTS):
        answered = right = 0
        for row in rows:
            if row["decision"] != "answer":
                continue
            if cut is not None and coverage.missing(row["text"], row["article"]) > cut:
                continue
            answered += 1
            right += row["expected"] == "answer" and row["article"] == row["expected_article"]
        cells.append(f"{right / max(answered, 1):.3f} / {right / max(in_scope, 1):.3f}")
    return cells


def main() -> None:
    os.environ["TANDEM_KNOWLEDGE__COVERAGE_CHECK"] = "off"  # the study applies it here
    print("| set | shipped | " + " | ".join(f"missing > {c}" for c in CUTS) + " |")
    print("|---|---|" + "---|" * len(CUTS))
    for label, faq, _result, rows in evaluated(folders(sys.argv[1:])):
        print(f"| {label} | " + " | ".join(study(faq, rows)) + " |")


if __name__ == "__main__":
    main()

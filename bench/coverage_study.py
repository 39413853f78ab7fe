"""A study, not the product: would a lexical coverage check keep small knowledge bases precise?

Usage: python bench/coverage_study.py [DIR ...]

For each ``NAME.faq.jsonl`` / ``NAME.cases.jsonl`` pair in each DIR (default: the three
``bench/live_traffic*`` folders), runs ``tandem eval --details`` with the calibrated default
and then, for each answered case, measures how much of the question the chosen article speaks
to: the share of the question's content words, each weighted by its inverse article frequency,
that appear nowhere in the article's question variants and answer. Prints precision /
deflection as shipped and with answers escalated above each share of missing words. The
figures were first read on sets that had been read before, so the cut-off is not validated
(README, *Small knowledge bases meeting live traffic*).
"""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from judgement import run_eval  # noqa: E402
from live_traffic import DEFAULT_DIRS  # noqa: E402

CUTS = (0.5, 0.6, 0.7, 0.8)
STOP = set(
    "a an the i me my we our you your it its is are was were be been am do does did can could "
    "would should will shall may might must to of in on at for from by with about as and or but "
    "if so not no yes this that these those there here what when where which who whom why how "
    "any some all more most much many one just also too very please hi hello thanks thank ok "
    "okay u ur pls plz im dont cant get got have has had want need like know tell".split()
)


def words(text: str) -> list[str]:
    """Content words, lowercased, with a crude plural and tense stem."""
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in STOP or len(word) < 2 or word.isdigit():
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if len(word) > 4 and word.endswith(suffix):
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


def missing_share(question: str, article: set[str], frequency: Counter[str], n: int) -> float:
    """The weighted share of the question's words that the article's text does not hold."""
    weights = {w: math.log((n + 1) / (frequency.get(w, 0) + 0.5)) for w in words(question)}
    total = sum(weights.values())
    return sum(v for w, v in weights.items() if w not in article) / total if total else 0.0


def study(faq: Path, rows: list[dict[str, Any]]) -> list[str]:
    texts: dict[str, list[str]] = defaultdict(list)
    for line in faq.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            texts[row["id"]].append(f"{row['question']} {row.get('answer') or ''}")
    articles = {a: set(words(" ".join(t))) for a, t in texts.items()}
    frequency = Counter(w for held in articles.values() for w in held)
    in_scope = sum(1 for r in rows if r["expected"] == "answer")
    cells = []
    for cut in (None, *CUTS):
        answered = right = 0
        for row in rows:
            if row["decision"] != "answer":
                continue
            held = articles.get(row["article"], set())
            if cut is not None and missing_share(row["text"], held, frequency, len(articles)) > cut:
                continue
            answered += 1
            right += row["expected"] == "answer" and row["article"] == row["expected_article"]
        cells.append(f"{right / max(answered, 1):.3f} / {right / max(in_scope, 1):.3f}")
    return cells


def main() -> None:
    dirs = [Path(a) for a in sys.argv[1:]] or [d for d in DEFAULT_DIRS if d.exists()]
    print("| set | shipped | " + " | ".join(f"missing > {c}" for c in CUTS) + " |")
    print("|---|---|" + "---|" * len(CUTS))
    for folder in dirs:
        for faq in sorted(folder.glob("*.faq.jsonl")):
            name = faq.name.removesuffix(".faq.jsonl")
            with tempfile.TemporaryDirectory() as temp:
                details = Path(temp) / "details.jsonl"
                run_eval(folder, name, name, "--details", str(details))
                rows = [json.loads(line) for line in details.read_text().splitlines()]
            print(f"| {folder.name}/{name} | " + " | ".join(study(faq, rows)) + " |")


if __name__ == "__main__":
    main()

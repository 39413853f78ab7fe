"""Turn the development datasets in ../shared/data into FAQ and cases files for ``tandem eval``.

Usage: python bench/datasets.py OUT_DIR [--data ../shared/data]

Writes ``clinc150.faq.jsonl`` / ``clinc150.cases.jsonl`` (and ``clinc150_oos{25,50,75}`` cases
with the in-scope cases subsampled to those out-of-scope shares), the same for ``bitext`` (and
``bitext_traffic``: 2,000 of its cases shuffled, for ``--replay``; ``banking77_traffic``),
``banking77`` and ``banking77_oos``, small knowledge bases (``few_shot``), and
``goemotions.cases.jsonl`` (frustration labels).
Splits are seeded.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

ESCALATING_BITEXT_INTENTS = {"contact_human_agent", "complaint"}
BITEXT_VARIANTS = 10
BITEXT_TRAFFIC = 2000
BANKING_VARIANTS = 20
BANKING_OOS_INTENTS = 10
FRUSTRATED = {"anger", "annoyance", "disappointment", "disapproval", "disgust"}
CALM = {"neutral", "approval", "gratitude"}


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _title(intent: str) -> str:
    return intent.replace("_", " ").capitalize()


def clinc(data: Path, out: Path) -> None:
    dataset = json.loads((data / "clinc150_dev.json").read_text())
    faq = [
        {
            "id": intent,
            "title": _title(intent),
            "question": text,
            "answer": f"[{intent}] answer article for: {_title(intent)}.",
        }
        for text, intent in dataset["train"]
    ]
    # Both out-of-scope lists: the knowledge base uses neither.
    cases = [{"text": t, "expect": "answer", "article": i} for t, i in dataset["val"]]
    cases += [
        {"text": t, "expect": "escalate"} for t, _ in dataset["oos_train"] + dataset["oos_val"]
    ]
    _write(out / "clinc150.faq.jsonl", faq)
    _write(out / "clinc150.cases.jsonl", cases)


def at_shares(out: Path, name: str, shares: tuple[float, ...] = (0.25, 0.5, 0.75)) -> None:
    """``{name}_oos{25,50,75}.cases.jsonl``: a set's cases with the in-scope ones subsampled so
    that its out-of-scope ones make up each share, shuffled (seeded) as live traffic comes in,
    for ``tandem eval`` with the threshold following the traffic's share."""
    cases = [json.loads(line) for line in (out / f"{name}.cases.jsonl").open(encoding="utf-8")]
    outside = [c for c in cases if c["expect"] == "escalate"]
    inside = [c for c in cases if c["expect"] == "answer"]
    for share in shares:
        rng = random.Random(int(share * 100))
        count = round(len(outside) * (1 - share) / share)
        if count <= len(inside):
            picked = rng.sample(inside, count) + outside
        else:  # too few in-scope cases: subsample the out-of-scope ones instead
            picked = inside + rng.sample(outside, round(len(inside) * share / (1 - share)))
        rng.shuffle(picked)
        _write(out / f"{name}_oos{int(share * 100)}.cases.jsonl", picked)


def shares(data: Path, out: Path) -> None:
    """CLINC150, BANKING77-OOS and banking77 at out-of-scope shares of 25, 50 and 75 % (once
    they are built)."""
    for name in ("clinc150", "banking77_oos", "banking77"):
        at_shares(out, name)


def banking77_oos(data: Path, out: Path) -> None:
    """BANKING77-OOS: a knowledge base of 50 banking intents; cases from its valid split, its
    in-domain out-of-scope questions (27 banking intents the knowledge base lacks) and its
    out-of-domain ones."""
    dataset = json.loads((data / "banking77_oos_dev.json").read_text())
    faq = [
        {"id": i, "title": _title(i), "question": t, "answer": f"[{i}] answer article."}
        for t, i in dataset["train"]
    ]
    cases = [{"text": t, "expect": "answer", "article": i} for t, i in dataset["valid"]]
    cases += [{"text": t, "expect": "escalate"} for t, _ in dataset["id_oos_valid"]]
    cases += [{"text": t, "expect": "escalate"} for t, _ in dataset["ood_oos_valid"]]
    _write(out / "banking77_oos.faq.jsonl", faq)
    _write(out / "banking77_oos.cases.jsonl", cases)
    # In the order traffic would bring them, for ``tandem eval --replay``.
    random.Random(13).shuffle(cases)
    _write(out / "banking77_oos_traffic.cases.jsonl", cases)


def bitext(data: Path, out: Path) -> None:
    rows = list(csv.DictReader((data / "bitext_customer_support.csv").open(encoding="utf-8")))
    by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row)
    rng = random.Random(7)
    faq, cases = [], []
    for intent, items in sorted(by_intent.items()):
        if intent in ESCALATING_BITEXT_INTENTS:
            cases += [{"text": r["instruction"], "expect": "escalate"} for r in items]
            continue
        rng.shuffle(items)
        for row in items[:BITEXT_VARIANTS]:
            faq.append(
                {
                    "id": intent,
                    "title": _title(intent),
                    "question": row["instruction"],
                    "answer": row["response"],
                    "tags": row["category"].lower(),
                }
            )
        cases += [
            {"text": r["instruction"], "expect": "answer", "article": intent}
            for r in items[BITEXT_VARIANTS:]
        ]
    _write(out / "bitext.faq.jsonl", faq)
    _write(out / "bitext.cases.jsonl", cases)
    # The same cases in the order traffic would bring them, for ``tandem eval --replay``.
    random.Random(11).shuffle(cases)
    _write(out / "bitext_traffic.cases.jsonl", cases[:BITEXT_TRAFFIC])


def banking77(
    data: Path, out: Path, variants: int = BANKING_VARIANTS, name: str = "banking77"
) -> None:
    rows = list(csv.DictReader((data / "banking77_train.csv").open(encoding="utf-8")))
    by_intent: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_intent[row["category"]].append(row["text"])
    rng = random.Random(77)
    intents = sorted(by_intent)
    held_out = set(rng.sample(intents, BANKING_OOS_INTENTS))
    faq, cases = [], []
    for intent in intents:
        texts = by_intent[intent]
        rng.shuffle(texts)
        if intent in held_out:
            cases += [{"text": t, "expect": "escalate"} for t in texts[:30]]
            continue
        faq += [
            {
                "id": intent,
                "title": _title(intent),
                "question": t,
                "answer": f"[{intent}] answer article.",
            }
            for t in texts[:variants]
        ]
        cases += [
            {"text": t, "expect": "answer", "article": intent}
            for t in texts[variants : variants + 30]
        ]
    _write(out / f"{name}.faq.jsonl", faq)
    _write(out / f"{name}.cases.jsonl", cases)
    # In the order traffic would bring them, for ``tandem eval --replay``.
    random.Random(11).shuffle(cases)
    _write(out / f"{name}_traffic.cases.jsonl", cases)


def few_shot(data: Path, out: Path) -> None:
    """Small knowledge bases, as a new bot's FAQ is: BANKING77-OOS with 5 and 10 question
    variants an article (``banking77_oos_5``, ``banking77_oos_10``) and CLINC150 with 10
    (``clinc150_10``), picked at random (seeded) from the full sets' knowledge bases, with the
    full sets' cases files; and banking77 with 5 (``banking77_5``, its own cases)."""
    banking77(data, out, variants=5, name="banking77_5")
    sources = {
        "banking77_oos": json.loads((data / "banking77_oos_dev.json").read_text())["train"],
        "clinc150": json.loads((data / "clinc150_dev.json").read_text())["train"],
    }
    for name, variants in (("banking77_oos", 5), ("banking77_oos", 10), ("clinc150", 10)):
        by_intent: dict[str, list[str]] = defaultdict(list)
        for text, intent in sources[name]:
            by_intent[intent].append(text)
        rng = random.Random(variants)
        faq = []
        for intent, texts in sorted(by_intent.items()):
            rng.shuffle(texts)
            faq += [
                {"id": intent, "title": _title(intent), "question": t, "answer": f"[{intent}]"}
                for t in texts[:variants]
            ]
        _write(out / f"{name}_{variants}.faq.jsonl", faq)


def goemotions(data: Path, out: Path, limit: int = 2000) -> None:
    labels = (data / "goemotions_labels.txt").read_text().split()
    cases = []
    with (data / "goemotions_dev.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            text, indices, _ = line.rstrip("\n").split("\t")
            names = {labels[int(i)] for i in indices.split(",")}
            if names & FRUSTRATED and not names & CALM:
                cases.append({"text": text, "frustrated": True})
            elif names & CALM and not names & FRUSTRATED:
                cases.append({"text": text, "frustrated": False})
    random.Random(3).shuffle(cases)
    _write(out / "goemotions.cases.jsonl", cases[:limit])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for build in (
        clinc,
        bitext,
        banking77,
        banking77_oos,
        few_shot,
        goemotions,
        shares,
    ):
        build(args.data, args.out)
        print(f"wrote {build.__name__}")


if __name__ == "__main__":
    main()

"""Train the answer confidence learned across deployments (``knowledge/answer_model.py``) and
print its leave-one-folder-out figures.

Usage: python bench/answer_model.py [--features FILE] [--write] [--latency]

Data: the small knowledge bases of ``bench/live_traffic*/`` folders 1–9 (27 deployments, each
written blind with imagined live traffic; not folder 10, the held-out read). For every case, the
knowledge base is built as ``tandem eval`` builds it and the question is searched through the
product's own code (``KnowledgeSearcher.answer_features``); the label is whether the case
expects an answer and the top article is the one that gives it.

Method: a logistic regression (L2, C = 1) over standardised features. The threshold is the
lowest whose precision reaches ``TRAIN_PRECISION`` over out-of-fold scores (leave one folder
out), a margin over the 0.9 promise since every folder read after a choice has come out lower.
The figures printed are nested: for each folder, a model and a threshold fitted on the other
folders only, then read on it. ``--write`` fits on all nine and writes
``knowledge/heads/answer_model.json``. ``--features FILE`` caches the features (building the
27 knowledge bases takes several minutes). ``--latency`` instead times a search without the
embedding (p50 / p95 / p99) on one of those knowledge bases, learned confidence on and off.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.progress import Progress
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
# The model learns the product's defaults, whatever this shell's TANDEM_* settings say.
for name in [n for n in os.environ if n.startswith("TANDEM_")]:
    del os.environ[name]

from bot.evaluation import read_cases  # noqa: E402
from config import load_settings  # noqa: E402
from integrations.composition import open_knowledge_base  # noqa: E402
from knowledge.answer_model import ANSWER_FEATURES, MODEL_FILE, AnswerModel  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.coverage import ArticleWords  # noqa: E402
from knowledge.ingest import IngestProgress  # noqa: E402

# Folders 1–9. The ninth was the first model's held-out read and the tenth is this one's (the
# model card): the tenth is never trained on, so that the figures it gave stay a held-out read.
FOLDERS = (ROOT / "live_traffic", *(ROOT / f"live_traffic_{n}" for n in range(2, 10)))
TRAIN_PRECISION = 0.95
PROMISE = 0.9
C = 1.0
Array = npt.NDArray[np.float64]
Row = dict[str, Any]


def built(folder: Path, name: str, temp: str, **settings: Any) -> KnowledgeBase:
    """One deployment's knowledge base, as ``tandem eval`` builds it, in ``temp``."""
    knowledge = load_settings(None).knowledge.model_copy(
        update={"data_dir": Path(temp), "chroma_url": None, "collection": "tandem_eval", **settings}
    )
    kb = open_knowledge_base(load_settings(None), knowledge=knowledge)
    report = kb.ingest([folder / f"{name}.faq.jsonl"], progress=IngestProgress())
    if report.failed:
        raise SystemExit(f"{folder / name}: {report.failed}")
    return kb


def latency(folder: Path, name: str) -> None:
    """Search every case of one deployment, learned confidence on and off, and print the
    milliseconds a search takes after one warm-up pass, which also caches each question's
    embedding (as the service caches it): the search without the embedding."""
    texts = [case.text for case in read_cases(folder / f"{name}.cases.jsonl")]
    for mode in ("few_variants", "off"):
        with tempfile.TemporaryDirectory(prefix="tandem-answer-model-") as temp:
            kb = built(folder, name, temp, learned_confidence=mode)
            for text in texts:
                kb.search(text)
            timings = []
            for text in texts:
                start = time.perf_counter()
                kb.search(text)
                timings.append((time.perf_counter() - start) * 1000)
            p50, p95, p99 = np.percentile(timings, [50, 95, 99])
            print(
                f"{name}, learned confidence {'on' if kb.learned_confidence else 'off'}: "
                f"search without the embedding p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                f"p99 {p99:.1f} ms ({len(texts)} questions)"
            )


def rows_of(folder: Path, name: str) -> list[Row]:
    """Every case of one deployment: its features, top article and label."""
    with tempfile.TemporaryDirectory(prefix="tandem-answer-model-") as temp:
        kb = built(folder, name, temp)
        contents = kb.store.contents()
        words = ArticleWords(contents.texts)
        searcher = kb.searcher()
        rows = []
        for case in read_cases(folder / f"{name}.cases.jsonl"):
            found = searcher.answer_features(case.text, words, contents.questions)
            if found is None:
                continue
            features, top = found
            right = case.expect == "answer" and top == case.article
            rows.append(
                {
                    "folder": folder.name,
                    "set": name,
                    "in_scope": case.expect == "answer",
                    "y": int(right),
                    "x": features.tolist(),
                }
            )
        return rows


def extract(cache: Path | None) -> list[Row]:
    if cache is not None and cache.exists():
        return [json.loads(line) for line in cache.read_text().splitlines()]
    pairs = [
        (f, p.name.removesuffix(".faq.jsonl"))
        for f in FOLDERS
        for p in sorted(f.glob("*.faq.jsonl"))
    ]
    rows: list[Row] = []
    with Progress() as progress:
        task = progress.add_task("building knowledge bases", total=len(pairs))
        for folder, name in pairs:
            rows += rows_of(folder, name)
            progress.advance(task)
    if cache is not None:
        cache.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def fit(x: Array, y: npt.NDArray[np.int_]) -> tuple[Callable[[Array], Array], AnswerModel]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, y)
    fitted = AnswerModel(
        ANSWER_FEATURES,
        mean,
        scale,
        model.coef_[0].astype(np.float64),
        float(model.intercept_[0]),
        1.0,
    )
    return (lambda z: model.predict_proba((z - mean) / scale)[:, 1]), fitted


def threshold_for(scores: Array, y: npt.NDArray[np.int_], target: float) -> float:
    """The lowest score at which the answers at or above it are right at ``target`` or more."""
    order = np.argsort(-scores, kind="stable")
    ranked, right = scores[order], np.cumsum(y[order])
    best = 1.0
    for i in range(len(ranked)):
        if i + 1 < len(ranked) and ranked[i + 1] == ranked[i]:
            continue  # a threshold takes every tie
        if right[i] / (i + 1) >= target:
            best = float(ranked[i])
    return best


def out_of_fold(x: Array, y: npt.NDArray[np.int_], groups: Sequence[str]) -> Array:
    """Each row's score from a model fitted without its group."""
    labels = np.asarray(groups)
    scores = np.zeros(len(y))
    for group in sorted(set(groups)):
        held = labels == group
        predict, _ = fit(x[~held], y[~held])
        scores[held] = predict(x[held])
    return scores


def report(rows: list[Row], x: Array, y: npt.NDArray[np.int_]) -> None:
    folders = [r["folder"] for r in rows]
    sets = np.array([r["set"] for r in rows])
    in_scope = np.array([r["in_scope"] for r in rows])
    print("| held-out folder | AUC | threshold (from the others) | precision | deflection |")
    print("|---|---|---|---|---|")
    answered_all = np.zeros(len(y), dtype=bool)
    scores_all = np.zeros(len(y))
    for folder in sorted(set(folders)):
        held = np.array([f == folder for f in folders])
        train_groups = [f for f in folders if f != folder]
        inner = out_of_fold(x[~held], y[~held], train_groups)
        threshold = threshold_for(inner, y[~held], TRAIN_PRECISION)
        predict, _ = fit(x[~held], y[~held])
        scores = predict(x[held])
        scores_all[held] = scores
        answered = scores >= threshold
        answered_all[held] = answered
        right = int((answered & (y[held] == 1)).sum())
        precision = right / answered.sum() if answered.sum() else float("nan")
        print(
            f"| {folder} | {roc_auc_score(y[held], scores):.3f} | {threshold:.3f} | "
            f"{precision:.3f} ({right}/{int(answered.sum())}) | "
            f"{right / max(int(in_scope[held].sum()), 1):.3f} |"
        )
    right = int((answered_all & (y == 1)).sum())
    print(
        f"| all, pooled | {roc_auc_score(y, scores_all):.3f} | | "
        f"{right / max(int(answered_all.sum()), 1):.3f} "
        f"({right}/{int(answered_all.sum())}) | {right / max(int(in_scope.sum()), 1):.3f} |"
    )
    under = []
    for name in sorted(set(sets)):
        mask = sets == name
        answered, right_set = answered_all[mask], int((answered_all[mask] & (y[mask] == 1)).sum())
        if answered.sum() and right_set / answered.sum() < PROMISE:
            under.append(f"{name} {right_set}/{int(answered.sum())}")
    print(f"deployments under {PROMISE}: {len(under)} of {len(set(sets))} ({', '.join(under)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=Path, help="cache the features in this JSONL file")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_FILE.name}")
    parser.add_argument("--latency", action="store_true", help="time a search, on and off")
    args = parser.parse_args()
    if args.latency:
        latency(FOLDERS[0], "health_store")
        return
    rows = extract(args.features)
    x = np.array([r["x"] for r in rows], dtype=np.float64)
    y = np.array([r["y"] for r in rows], dtype=np.int_)
    print(
        f"{len(rows)} cases, {int(y.sum())} answerable by the top article, {len(FOLDERS)} folders"
    )
    report(rows, x, y)
    folders = [r["folder"] for r in rows]
    threshold = threshold_for(out_of_fold(x, y, folders), y, TRAIN_PRECISION)
    _, model = fit(x, y)
    model = AnswerModel(
        model.names, model.mean, model.scale, model.coef, model.intercept, threshold
    )
    print(f"fitted on all {len(set(folders))} folders: threshold {threshold:.4f}")
    for name, weight in sorted(
        zip(ANSWER_FEATURES, model.coef, strict=True), key=lambda p: -abs(p[1])
    ):
        print(f"  {name:38s} {weight:+.3f}")
    if args.write:
        MODEL_FILE.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()

"""What each part of the confidence model contributes, over several calibration seeds.

Usage: python bench/confidence_study.py [--data ../shared/data] [--seeds 3] [--only NAME ...]

For each development set the knowledge base is built as ``tandem eval`` builds it, and every
case is scored once as live search scores it. Then, for each seed, calibration collects its
probes (``knowledge.calibration.collect_probes``) and each method is calibrated on them with
the features it does not use set to zero (an L2-regularised logistic weight on a zero column
stays zero, so this is the same as fitting without them). The threshold is picked for the
default out-of-scope share (0.5) from the probes alone; the cases only measure.

Prints one row per method and set: precision at out-of-scope shares of 25 / 50 / 75 % (from
the cases, by weighting the out-of-scope ones) for CLINC150, BANKING77-OOS and banking77, the
set's own precision for Bitext, and deflection; means over the seeds, with the lowest 75 %
precision.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402
from judgement import SHARE_SETS, SHARES, at_share  # noqa: E402

from config import Settings  # noqa: E402
from integrations.composition import open_knowledge_base  # noqa: E402
from knowledge.calibration import (  # noqa: E402
    OOS_SHARE,
    TWIN_SIMILARITY,
    Probes,
    collect_probes,
    fit_confidence,
    score_queries,
)
from knowledge.ingest import IngestProgress  # noqa: E402
from knowledge.scoring import FEATURE_NAMES  # noqa: E402

SETS = ("clinc150", "banking77_oos", "bitext", "banking77")
BUILDERS = {
    "clinc150": datasets.clinc,
    "banking77_oos": datasets.banking77_oos,
    "bitext": datasets.bitext,
    "banking77": datasets.banking77,
}
CLASSIFIER_ONLY = ("bias", "probability", "probability_margin", "similarity", "similarity_margin")
NEIGHBOURHOOD = (
    "question_similarity",
    "question_similarity_top3",
    "probability_x_question_similarity",
    "neighbour_density",
    "neighbour_share",
)
# (label, features used, twin cut-off of the out-of-scope probes)
METHODS: tuple[tuple[str, tuple[str, ...], float | None], ...] = (
    ("classifier and similarity (5 features)", CLASSIFIER_ONLY, TWIN_SIMILARITY),
    ("+ question variants, density, share", CLASSIFIER_ONLY + NEIGHBOURHOOD, TWIN_SIMILARITY),
    ("+ relative distance (shipped)", FEATURE_NAMES, TWIN_SIMILARITY),
    ("shipped, near-twin articles left out of the probes (0.8)", FEATURE_NAMES, 0.8),
)


@dataclass
class Scored:
    """One development set, scored live: features, top article, what was expected."""

    vectors: npt.NDArray[np.float32]
    articles: npt.NDArray[np.str_]
    kinds: npt.NDArray[np.str_]
    texts: list[str]
    features: npt.NDArray[np.float64]
    right_article: npt.NDArray[np.bool_]
    expected: list[str]
    questions: list[str]
    top_k: int


def build(name: str, data: Path, out: Path) -> Scored:
    """Build the set's knowledge base as ``tandem eval`` does and score every case."""
    BUILDERS[name](data, out)
    settings = Settings()
    cases = [json.loads(line) for line in (out / f"{name}.cases.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory(prefix="tandem-study-") as temp:
        knowledge = settings.knowledge.model_copy(
            update={"data_dir": Path(temp), "chroma_url": None, "collection": "tandem_study"}
        )
        kb = open_knowledge_base(settings, knowledge=knowledge)
        kb.ingest([out / f"{name}.faq.jsonl"], progress=IngestProgress())
        _, vectors, metadatas, texts = kb.store.everything_with_texts()
        chunks = np.asarray(vectors, dtype=np.float32)
        articles = np.array([m["article_id"] for m in metadatas], dtype=str)
        kinds = np.array([m["kind"] for m in metadatas], dtype=str)
        queries = kb.store.embeddings.embed([case["text"] for case in cases])
        scores = score_queries(
            kb.classifier,
            np.asarray(queries),
            chunks,
            articles,
            kinds,
            kb.settings.top_k,
            [case["text"] for case in cases],
        )
    return Scored(
        vectors=chunks,
        articles=articles,
        kinds=kinds,
        texts=texts,
        features=np.vstack([s.features for s in scores]),
        right_article=np.array(
            [
                s.ranked[0].article_id == case.get("article")
                for s, case in zip(scores, cases, strict=True)
            ]
        ),
        expected=[case["expect"] for case in cases],
        questions=[case["text"] for case in cases],
        top_k=settings.knowledge.top_k,
    )


def masked(rows: npt.NDArray[np.float64], used: tuple[str, ...]) -> npt.NDArray[np.float64]:
    keep = np.array([name in used for name in FEATURE_NAMES])
    return np.where(keep, rows, 0.0)


def measure(
    scored: Scored, probes: Probes, used: tuple[str, ...], shares: bool
) -> dict[str, float]:
    fitted = Probes(
        rows=list(masked(np.vstack(probes.rows), used)),
        correct=probes.correct,
        in_scope=probes.in_scope,
    )
    model = fit_confidence(fitted, 0.9, OOS_SHARE)
    confidence = np.array([model.confidence(row) for row in masked(scored.features, used)])
    answered = confidence >= model.threshold
    rows = [
        {
            "text": text,
            "expected": expected,
            "decision": "answer" if answer else "escalate",
            "right": right,
            "reasons": [],
            "confidence": value,
            "article": "right" if right else "wrong",
            "expected_article": "right",
        }
        for text, expected, answer, right, value in zip(
            scored.questions,
            scored.expected,
            answered,
            scored.right_article,
            confidence,
            strict=True,
        )
    ]
    inside = [r for r in rows if r["expected"] == "answer"]
    answered_rows = [r for r in rows if r["decision"] == "answer"]
    result = {
        "deflection": sum(r["decision"] == "answer" and r["right"] for r in inside)
        / max(len(inside), 1),
        "precision": sum(r["expected"] == "answer" and r["right"] for r in answered_rows)
        / max(len(answered_rows), 1),
    }
    if shares:
        for share in SHARES:
            result[f"precision_{int(share * 100)}"] = at_share(rows, asdict(model), share)["fixed"][
                "precision"
            ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=SETS)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="tandem-study-"))
    names = args.only or SETS
    twins = sorted({twin for _, _, twin in METHODS}, key=str)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with Progress(transient=True) as progress:
        task = progress.add_task("collecting probes", total=len(names) * args.seeds * len(twins))
        for name in names:
            scored = build(name, args.data, out)
            for seed in range(args.seeds):
                for twin in twins:
                    probes = collect_probes(
                        scored.vectors,
                        scored.articles,
                        scored.kinds == "question",
                        kinds=scored.kinds,
                        texts=scored.texts,
                        top_k=scored.top_k,
                        twin_similarity=twin,
                        seed=seed,
                    )
                    for label, used, method_twin in METHODS:
                        if method_twin == twin:
                            results.setdefault((label, name), []).append(
                                measure(scored, probes, used, name in SHARE_SETS)
                            )
                    progress.advance(task)
    print("| method | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, _, _ in METHODS:
        cells = [_cell(results[(label, name)]) for name in names]
        print(f"| {label} | " + " | ".join(cells) + " |")


def _cell(runs: list[dict[str, float]]) -> str:
    def mean(key: str) -> float:
        return float(np.mean([run[key] for run in runs]))

    if "precision_75" in runs[0]:
        lowest = min(run["precision_75"] for run in runs)
        shares = " / ".join(f"{mean(f'precision_{int(s * 100)}'):.3f}" for s in SHARES)
        return f"{shares} (75 % lowest {lowest:.3f}), {mean('deflection'):.3f}"
    return f"{mean('precision'):.3f}, {mean('deflection'):.3f}"


if __name__ == "__main__":
    main()

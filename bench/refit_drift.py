"""How far a refit moves the confidences that live outcomes were recorded with.

Usage: python bench/refit_drift.py [--kb PATH] [--cases FILE] [--steps N]

Live outcomes and the bot's answers are stored at the confidence the model of the day gave, and
read later against the threshold of the model then serving (``bot.learning.live_estimate``).
Every accepted tag adds a question variant and refits. This script measures what that costs: it
ingests a knowledge base (default: the sample one), scores the cases' questions, then adds one
in-scope case at a time as a question variant of its article (as an accepted tag does), and
after each refit prints the calibrated threshold, how far the other questions' confidences moved
(median, 90th percentile, largest), and how many answer-or-escalate decisions read from the first
model's confidences would differ from the new model's own.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from config import KnowledgeSettings
from knowledge.base import KnowledgeBase
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from knowledge.learned import add_question_variants

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--cases", type=Path, default=ROOT / "bench" / "sample_questions.jsonl")
    parser.add_argument("--steps", type=int, default=6, help="variants added, one refit each")
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    taught = [c for c in cases if c["expect"] == "answer"][:: max(1, len(cases) // 20)]
    taught = taught[: args.steps]
    scored = [c["text"] for c in cases if c not in taught]
    with tempfile.TemporaryDirectory() as temp:
        settings = KnowledgeSettings(data_dir=Path(temp) / "data")
        knowledge_base = KnowledgeBase(settings=settings, embeddings=MiniLMOnnxEmbeddings())
        knowledge_base.ingest([args.kb])

        def confidences() -> np.ndarray:
            return np.array([knowledge_base.search(text).confidence for text in scored])

        first, first_threshold = confidences(), knowledge_base.confidence.threshold
        print(f"{len(scored)} questions scored; first calibrated threshold {first_threshold:.3f}")
        print("| refit | threshold | confidence moved: median / p90 / max | decisions differ |")
        print("|---|---|---|---|")
        for step, case in enumerate(taught, 1):
            add_question_variants(knowledge_base, {case["article"]: [case["text"]]})
            now, threshold = confidences(), knowledge_base.confidence.threshold
            moved = np.abs(now - first)
            differ = int(np.sum((first >= threshold) != (now >= threshold)))
            print(
                f"| {step} | {threshold:.3f} | {np.median(moved):.3f} / "
                f"{np.quantile(moved, 0.9):.3f} / {moved.max():.3f} | {differ} of {len(scored)} |"
            )


if __name__ == "__main__":
    main()

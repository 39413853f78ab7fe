"""The answer confidence learned across deployments, for small knowledge bases.

Calibration fits a confidence on a knowledge base's own question variants. With a few variants
an article, those say little about customers' own wording: on small knowledge bases written
blind with live-like traffic it ranked right answers poorly and missed its promise on most of
the sets written last (README, *Small knowledge bases meeting live traffic*). This model was
learned instead from such deployments' traffic, labelled: is the top article the one that
answers? Its features describe the question against the knowledge base (probabilities,
similarities, BM25 scores, how much of the question each top article's words hold), never
words, so it carries to a knowledge base it has not seen. ``bench/answer_model.py`` reproduces
the shipped file; ``knowledge/heads/ANSWER_MODEL_CARD.md`` gives its data, split and figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.coverage import ArticleWords, content_words
from knowledge.scoring import FEATURE_NAMES, sigmoid

MODEL_FILE = Path(__file__).resolve().parent / "heads" / "answer_model.json"
MAX_ARTICLES = 40
"""Larger knowledge bases keep the calibrated confidence: the model learned on 17–28 articles,
and its BM25 and neighbourhood features read differently over many more. BANKING77-OOS with 5
variants an article (50 articles) answered at 0.845 / 0.116 (precision / deflection) under it,
against 0.892 / 0.175 calibrated."""
MAX_MEDIAN_VARIANTS = 8
"""Knowledge bases with more question variants an article keep it too: the model learned on
medians of 4–6. Bitext's knowledge base (25 articles, 10 variants each, traffic 92 % in scope)
answered 0.216 of its questions under it against 0.491 calibrated, at precision 0.999 both."""

EXTRA_FEATURES = (
    "probability_second",
    "rank_margin",
    "top_is_most_probable",
    "bm25_top",
    "bm25_margin",
    "top_is_best_bm25",
    "uncovered_top",
    "uncovered_second",
    "uncovered_least_of_three",
    "unknown_to_the_knowledge_base",
    "content_words",
    "top_question_variants",
)
ANSWER_FEATURES = (*(n for n in FEATURE_NAMES if n != "bias"), *EXTRA_FEATURES)


@dataclass(frozen=True)
class Evidence:
    """What one search saw, besides the confidence features (``knowledge.scoring``).

    Attributes:
        classes: Article ids, in the classifier's order.
        probabilities: The classifier's probabilities for the question.
        ranking: The scores that ordered the articles (None: the probabilities did).
        bm25: Each article's BM25 score for the question (None without a lexical index).
    """

    classes: npt.NDArray[np.str_]
    probabilities: npt.NDArray[np.float64]
    ranking: npt.NDArray[np.float64] | None
    bm25: npt.NDArray[np.float64] | None


def answer_features(
    text: str,
    scored: npt.NDArray[np.float64],
    evidence: Evidence,
    words: ArticleWords,
    question_variants: Mapping[str, int],
) -> npt.NDArray[np.float64]:
    """The model's features for ``text``, in the order of ``ANSWER_FEATURES``.

    Args:
        text: The customer's message.
        scored: The confidence features ``knowledge.scoring.score`` gave (with its bias).
        evidence: The classifier's view of the question.
        words: Each article's words (``knowledge.coverage``).
        question_variants: Question variants by article.
    """
    p = evidence.probabilities
    order_by = evidence.ranking if evidence.ranking is not None else np.log(np.maximum(p, 1e-12))
    order = np.argsort(-order_by, kind="stable")
    first = int(order[0])
    second = int(order[1]) if len(order) > 1 else first
    bm25 = evidence.bm25 if evidence.bm25 is not None else np.zeros(len(p))
    others = np.delete(bm25, first)
    top = [str(evidence.classes[int(i)]) for i in order[:3]]
    uncovered = [words.missing(text, article) for article in top]
    extra = [
        float(p[second]),
        float(order_by[first] - order_by[second]),
        float(first == int(np.argmax(p))),
        float(bm25[first]),
        float(bm25[first] - (others.max() if len(others) else 0.0)),
        float(first == int(np.argmax(bm25))),
        uncovered[0],
        uncovered[1] if len(uncovered) > 1 else 1.0,
        min(uncovered),
        words.unknown(text),
        float(len(content_words(text))),
        float(question_variants.get(top[0], 0)),
    ]
    return np.array([*scored[1:], *extra], dtype=np.float64)


@dataclass(frozen=True)
class AnswerModel:
    """A logistic model over standardised ``ANSWER_FEATURES``, with the threshold it answers at.

    Attributes:
        names: The feature names it was fitted on (must be ``ANSWER_FEATURES``).
        mean: Each feature's mean in training.
        scale: Each feature's standard deviation in training.
        coef: The weights of the standardised features.
        intercept: The bias.
        threshold: The probability it answers at: chosen on the training deployments' own
            held-out folds for a precision above the target (see the model card).
    """

    names: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]
    intercept: float
    threshold: float

    def probability(self, features: npt.NDArray[np.float64]) -> float:
        """The probability that the top article is the one that answers."""
        z = float(((features - self.mean) / self.scale) @ self.coef) + self.intercept
        return sigmoid(z)

    def to_json(self) -> dict[str, object]:
        return {
            "names": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
        }

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerModel:
        """Read a model file.

        Raises:
            ValueError: if it was fitted on other features than this code computes.
        """
        data = json.loads(path.read_text(encoding="utf-8"))
        names = tuple(data["names"])
        if names != ANSWER_FEATURES:
            raise ValueError(f"{path} was fitted on other features: {names}")
        return cls(
            names=names,
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

"""Fit the confidence model and pick the answer threshold from the knowledge base alone.

No labelled test set is needed. We hold out the knowledge base's own question variants:

* **in-scope probes** – each sampled question is searched with only its own chunk removed; the
  answer is right when the top article is the question's article;
* **out-of-scope probes** – a whole article is removed and its questions searched; any answer is
  wrong, which simulates a question the knowledge base does not cover.

A logistic model over ``scoring.features`` is fitted to these probes, and the threshold is the
lowest confidence at which the expected precision (with out-of-scope traffic at ``oos_share``)
still meets the target.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.scoring import FEATURE_NAMES, features, rank_articles, sigmoid
from knowledge.store import KnowledgeStore

# Used until a knowledge base is calibrated; close to what calibration fits on FAQ-style data.
DEFAULT_WEIGHTS = (-9.0, 10.0, 12.0, 2.0)
DEFAULT_THRESHOLD = 0.5


@dataclass
class ConfidenceModel:
    """A logistic model of P(top article is right) and the threshold to answer at."""

    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    threshold: float = DEFAULT_THRESHOLD
    target_precision: float | None = None
    expected_precision: float | None = None
    expected_deflection: float | None = None
    embedding_model: str | None = None
    chunks: int = 0
    probes: dict[str, int] = field(default_factory=dict)
    curve: list[dict[str, float]] = field(default_factory=list)

    def confidence(self, values: npt.NDArray[np.float64]) -> float:
        return sigmoid(float(np.dot(np.asarray(self.weights), values)))

    @property
    def calibrated(self) -> bool:
        return self.target_precision is not None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> ConfidenceModel:
        """Read a saved model; a missing file gives the uncalibrated default."""
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        data["weights"] = tuple(data["weights"])
        return cls(**data)


@dataclass
class _Probes:
    features: list[npt.NDArray[np.float64]] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    in_scope: list[bool] = field(default_factory=list)


def _search_excluding(
    queries: npt.NDArray[np.float32],
    exclusions: list[npt.NDArray[np.bool_]],
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    top_k: int,
) -> list[list[tuple[str, float]]]:
    sims = queries @ vectors.T
    results = []
    for row, excluded in zip(sims, exclusions, strict=True):
        row = np.where(excluded, -np.inf, row)
        k = min(top_k, int((~excluded).sum()))
        top = np.argpartition(-row, k - 1)[:k]
        top = top[np.argsort(-row[top])]
        results.append([(str(articles[i]), float(row[i])) for i in top])
    return results


def _fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Weighted logistic regression by Newton's method, with a small ridge for stability."""
    beta = np.asarray(DEFAULT_WEIGHTS, dtype=np.float64)
    ridge = 1e-3 * np.eye(x.shape[1])
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (w * (p - y)) + ridge @ beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    return beta


def calibrate(
    store: KnowledgeStore,
    *,
    target_precision: float,
    top_k: int = 20,
    oos_share: float = 0.25,
    max_probes: int = 3000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ConfidenceModel:
    """Fit a ``ConfidenceModel`` for ``store`` that meets ``target_precision``.

    Args:
        store: The knowledge base to calibrate.
        target_precision: Share of answers that must be right, e.g. 0.9.
        top_k: Neighbours per query, as in live search.
        oos_share: Assumed share of out-of-scope questions in live traffic.
        max_probes: In-scope probes at most (out-of-scope probes: half as many).
        seed: Random seed for sampling probes.
        progress: Called with (done, total) probes.

    Raises:
        ValueError: if the knowledge base has fewer than two articles with questions.
    """
    _, vectors, metadatas = store.everything()
    articles = np.array([m["article_id"] for m in metadatas])
    is_question = np.array([m["kind"] == "question" for m in metadatas])
    unique = np.unique(articles)
    if len(unique) < 2 or not is_question.any():
        raise ValueError("calibration needs at least two articles with questions or titles")
    rng = np.random.default_rng(seed)
    per_article = {a: np.flatnonzero(articles == a) for a in unique}

    in_scope = [i for i in np.flatnonzero(is_question) if len(per_article[articles[i]]) > 1]
    in_scope = list(rng.permutation(in_scope)[:max_probes])
    out_scope: list[int] = []
    budget = max(1, max_probes // 2)
    per = max(1, budget // len(unique))
    for article in rng.permutation(unique):
        chunks = per_article[article]
        questions = [i for i in chunks if is_question[i]] or list(chunks)
        out_scope.extend(rng.permutation(questions)[:per])
        if len(out_scope) >= budget:
            break

    probes = _Probes()
    jobs = [(i, True) for i in in_scope] + [(i, False) for i in out_scope]
    for start in range(0, len(jobs), 256):
        batch = jobs[start : start + 256]
        exclusions = []
        for index, scoped in batch:
            mask = np.zeros(len(articles), dtype=bool)
            if scoped:
                mask[index] = True
            else:
                mask[per_article[articles[index]]] = True
            exclusions.append(mask)
        queries = vectors[[index for index, _ in batch]]
        for (index, scoped), neighbours in zip(
            batch, _search_excluding(queries, exclusions, vectors, articles, top_k), strict=True
        ):
            ranked = rank_articles([a for a, _ in neighbours], [s for _, s in neighbours])
            probes.features.append(features(ranked))
            probes.correct.append(scoped and ranked[0].article_id == articles[index])
            probes.in_scope.append(scoped)
        if progress:
            progress(min(start + 256, len(jobs)), len(jobs))

    x = np.vstack(probes.features)
    y = np.asarray(probes.correct, dtype=np.float64)
    scoped_mask = np.asarray(probes.in_scope)
    n_in, n_out = int(scoped_mask.sum()), int((~scoped_mask).sum())
    oos_weight = (oos_share / (1 - oos_share)) * n_in / max(n_out, 1)
    weights = np.where(scoped_mask, 1.0, oos_weight)
    beta = _fit_logistic(x, y, weights)
    model = ConfidenceModel(weights=tuple(float(b) for b in beta))
    confidence = np.array([model.confidence(row) for row in x])

    order = np.argsort(-confidence)
    answered = np.cumsum(weights[order])
    right = np.cumsum((weights * y)[order])
    precision = right / answered
    deflection = np.cumsum(y[order]) / max(n_in, 1)
    meets = np.flatnonzero(precision >= target_precision)
    cut = int(meets.max()) if len(meets) else 0
    model.threshold = float(confidence[order][cut]) if len(meets) else 1.0
    model.target_precision = target_precision
    model.expected_precision = float(precision[cut]) if len(meets) else None
    model.expected_deflection = float(deflection[cut]) if len(meets) else 0.0
    model.embedding_model = store.embeddings.name
    model.chunks = len(articles)
    model.probes = {"in_scope": n_in, "out_of_scope": n_out}
    model.curve = [
        {"threshold": float(confidence[order][i]), "precision": float(precision[i]),
         "deflection": float(deflection[i])}
        for i in np.linspace(0, len(order) - 1, num=min(21, len(order))).astype(int)
    ]
    return model


__all__ = ["FEATURE_NAMES", "ConfidenceModel", "calibrate"]

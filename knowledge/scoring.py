"""Turn classifier probabilities and nearest neighbours into ranked articles and features.

Live search and calibration both call ``score``, so the confidence that calibration fits is
exactly the one live traffic sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FEATURE_NAMES = (
    "bias",
    "probability",
    "probability_margin",
    "similarity",
    "similarity_margin",
    # Out-of-scope evidence beyond the classifier: how close the question is to the predicted
    # article's own question variants, how dense the neighbourhood is, and how much of it
    # belongs to the predicted article.
    "question_similarity",
    "question_similarity_top3",
    "probability_x_question_similarity",
    "neighbour_density",
    "neighbour_share",
    # How far the question is from the predicted article's chunks, relative to the knowledge
    # base as a whole (``knowledge.distance``).
    "relative_distance",
)
DENSITY_NEIGHBOURS = 10


@dataclass(frozen=True)
class ArticleScore:
    """One candidate article.

    Attributes:
        article_id: The article.
        probability: The classifier's probability for it.
        similarity: Its best neighbouring chunk's cosine similarity (0 if none was near).
    """

    article_id: str
    probability: float
    similarity: float


@dataclass(frozen=True)
class Scored:
    """Ranked candidates and the confidence features of the top one."""

    ranked: list[ArticleScore]
    features: npt.NDArray[np.float64]
    similarity_margin: float


def score(
    classes: npt.NDArray[np.str_],
    probabilities: npt.NDArray[np.float64],
    neighbour_articles: Sequence[str],
    neighbour_similarities: Sequence[float],
    neighbour_kinds: Sequence[str] | None = None,
    *,
    distances: npt.NDArray[np.float64] | None = None,
    ranking: npt.NDArray[np.float64] | None = None,
    limit: int = 5,
) -> Scored:
    """Rank articles and describe how sure the ranking is.

    Args:
        classes: Article ids of the probability columns.
        probabilities: The classifier's probabilities for one question.
        neighbour_articles: Article ids of the nearest chunks, best first.
        neighbour_similarities: Their cosine similarities.
        neighbour_kinds: Their chunk kinds (``question``, ``title``, ``passage``); all count as
            questions when not given.
        distances: The question's relative distance to each article, in the order of
            ``classes`` (0 when not given).
        ranking: Scores that order the articles (``ArticleClassifier.ranking``); by
            probability when not given. The features read the probabilities of the articles
            so ordered: a top article the probabilities do not favour has a low probability
            and a negative margin.
        limit: Candidates to keep.
    """
    kinds = neighbour_kinds or ["question"] * len(neighbour_articles)
    best_sim: dict[str, float] = {}
    question_sims: dict[str, list[float]] = {}
    for article_id, similarity, kind in zip(
        neighbour_articles, neighbour_similarities, kinds, strict=True
    ):
        best_sim[article_id] = max(best_sim.get(article_id, -1.0), similarity)
        if kind != "passage":
            question_sims.setdefault(article_id, []).append(float(similarity))
    order = np.argsort(-(probabilities if ranking is None else ranking), kind="stable")[:limit]
    ranked = [
        ArticleScore(str(classes[i]), float(probabilities[i]), best_sim.get(str(classes[i]), 0.0))
        for i in order
    ]
    if not ranked:
        return Scored([], np.zeros(len(FEATURE_NAMES)), 0.0)
    top = ranked[0]
    others_p = np.delete(probabilities, order[0])
    second_p = float(others_p.max()) if len(others_p) else 0.0
    others = [s for a, s in best_sim.items() if a != top.article_id]
    sim_margin = top.similarity - max(others, default=0.0)
    questions = sorted(question_sims.get(top.article_id, []), reverse=True)
    question_sim = questions[0] if questions else 0.0
    nearest = list(neighbour_similarities[:DENSITY_NEIGHBOURS])
    values = np.array(
        [
            1.0,
            top.probability,
            top.probability - second_p,
            top.similarity,
            sim_margin,
            question_sim,
            float(np.mean(questions[:3])) if questions else 0.0,
            top.probability * question_sim,
            float(np.mean(nearest)) if nearest else 0.0,
            sum(1 for a in neighbour_articles[:DENSITY_NEIGHBOURS] if a == top.article_id)
            / DENSITY_NEIGHBOURS,
            float(distances[order[0]]) if distances is not None else 0.0,
        ]
    )
    return Scored(ranked, values, sim_margin)


def sigmoid(value: float) -> float:
    """The logistic function, safe for large magnitudes."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)

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

FEATURE_NAMES = ("bias", "probability", "probability_margin", "similarity", "similarity_margin")


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
    *,
    limit: int = 5,
) -> Scored:
    """Rank articles by classifier probability and describe how sure the ranking is.

    Args:
        classes: Article ids of the probability columns.
        probabilities: The classifier's probabilities for one question.
        neighbour_articles: Article ids of the nearest chunks, best first.
        neighbour_similarities: Their cosine similarities.
        limit: Candidates to keep.
    """
    best_sim: dict[str, float] = {}
    for article_id, similarity in zip(neighbour_articles, neighbour_similarities, strict=True):
        best_sim[article_id] = max(best_sim.get(article_id, -1.0), similarity)
    order = np.argsort(-probabilities)[:limit]
    ranked = [
        ArticleScore(str(classes[i]), float(probabilities[i]), best_sim.get(str(classes[i]), 0.0))
        for i in order
    ]
    if not ranked:
        return Scored([], np.zeros(len(FEATURE_NAMES)), 0.0)
    top = ranked[0]
    second_p = ranked[1].probability if len(ranked) > 1 else 0.0
    others = [s for a, s in best_sim.items() if a != top.article_id]
    sim_margin = top.similarity - max(others, default=0.0)
    values = np.array(
        [1.0, top.probability, top.probability - second_p, top.similarity, sim_margin]
    )
    return Scored(ranked, values, sim_margin)


def sigmoid(value: float) -> float:
    """The logistic function, safe for large magnitudes."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)

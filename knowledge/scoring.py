"""Turn nearest-neighbour chunks into ranked articles and confidence features.

Live search and calibration both call ``rank_articles`` and ``features``, so the confidence
that calibration fits is exactly the one live traffic sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

VOTE_TEMPERATURE = 0.05
FEATURE_NAMES = ("bias", "similarity", "margin", "vote_share")


@dataclass(frozen=True)
class ArticleScore:
    """One article's standing among a query's neighbours.

    Attributes:
        article_id: The article.
        similarity: Its best chunk's cosine similarity.
        vote: Its share of the neighbours' softmax-weighted votes (0..1).
    """

    article_id: str
    similarity: float
    vote: float


def rank_articles(article_ids: Sequence[str], similarities: Sequence[float]) -> list[ArticleScore]:
    """Group neighbours (best first) by article and rank by best similarity.

    Every neighbour votes for its article with weight ``exp((sim - top) / T)``, so close
    neighbours count most and a crowd of far ones cannot outvote one near match.
    """
    if not article_ids:
        return []
    top = max(similarities)
    best: dict[str, float] = {}
    votes: dict[str, float] = {}
    for article_id, similarity in zip(article_ids, similarities, strict=True):
        best[article_id] = max(best.get(article_id, -1.0), similarity)
        votes[article_id] = votes.get(article_id, 0.0) + math.exp(
            (similarity - top) / VOTE_TEMPERATURE
        )
    total = sum(votes.values())
    ranked = [ArticleScore(a, best[a], votes[a] / total) for a in best]
    ranked.sort(key=lambda score: (score.similarity, score.vote), reverse=True)
    return ranked


def features(ranked: Sequence[ArticleScore]) -> npt.NDArray[np.float64]:
    """The confidence features of the top article: bias, similarity, margin, vote share."""
    if not ranked:
        return np.array([1.0, 0.0, 0.0, 0.0])
    first = ranked[0]
    second = ranked[1].similarity if len(ranked) > 1 else 0.0
    return np.array([1.0, first.similarity, first.similarity - second, first.vote])


def margin(ranked: Sequence[ArticleScore]) -> float:
    """Similarity gap between the top two articles (1.0 when fewer than two)."""
    if len(ranked) < 2:
        return 1.0
    return ranked[0].similarity - ranked[1].similarity


def sigmoid(value: float) -> float:
    """The logistic function, safe for large magnitudes."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)

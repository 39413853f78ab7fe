"""Search the knowledge base: the ``Retriever`` port the core talks to."""

from __future__ import annotations

from collections import defaultdict

from bot.model import ArticleMatch, Retrieval
from knowledge.calibration import ConfidenceModel
from knowledge.scoring import features, margin, rank_articles
from knowledge.store import Hit, KnowledgeStore


class KnowledgeSearcher:
    """Embed a question, fetch its neighbours from Chroma, rank articles and score confidence.

    Args:
        store: The chunk store.
        confidence: The (calibrated) confidence model.
        top_k: Neighbours per query.
        threshold: Overrides the calibrated answer threshold when set.
    """

    def __init__(
        self,
        *,
        store: KnowledgeStore,
        confidence: ConfidenceModel,
        top_k: int = 20,
        threshold: float | None = None,
    ) -> None:
        self._store = store
        self._confidence = confidence
        self._top_k = top_k
        self._threshold = confidence.threshold if threshold is None else threshold

    @property
    def threshold(self) -> float:
        return self._threshold

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        """Find the articles that answer ``text``, best first, with a calibrated confidence."""
        vector = self._store.embeddings.embed([text])[0]
        hits = self._store.query(vector, self._top_k)
        ranked = rank_articles([h.article_id for h in hits], [h.similarity for h in hits])
        by_article: dict[str, list[Hit]] = defaultdict(list)
        for hit in hits:
            by_article[hit.article_id].append(hit)
        matches = tuple(self._match(score.article_id, by_article[score.article_id])
                        for score in ranked[:limit])
        confidence = self._confidence.confidence(features(ranked)) if ranked else 0.0
        return Retrieval(
            query=text,
            matches=matches,
            confidence=confidence,
            threshold=self._threshold,
            margin=margin(ranked),
        )

    def _match(self, article_id: str, hits: list[Hit]) -> ArticleMatch:
        first = hits[0]
        passages = [h.text for h in hits if h.kind == "passage"]
        if not passages:
            passages = self._store.article_passages(article_id)
        return ArticleMatch(
            article_id=article_id,
            title=first.title,
            url=first.url,
            source=first.source,
            similarity=max(h.similarity for h in hits),
            passages=tuple(passages),
        )

"""Search the knowledge base: the ``Retriever`` port the core talks to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.model import ArticleMatch, Retrieval
from knowledge.answer_model import AnswerModel, Evidence, answer_features
from knowledge.calibration import ConfidenceModel
from knowledge.classifier import ArticleClassifier
from knowledge.coverage import ArticleWords
from knowledge.embeddings.base import Vectors
from knowledge.scoring import Scored, score
from knowledge.store import ArticlePassages, Hit, KnowledgeStore


@dataclass(frozen=True)
class LearnedAnswer:
    """The confidence learned across deployments, with what its features read."""

    model: AnswerModel
    words: ArticleWords
    question_variants: Mapping[str, int]


@dataclass(frozen=True)
class _Look:
    hits: list[Hit]
    scored: Scored
    evidence: Evidence


class KnowledgeSearcher:
    """Embed a question, fetch its neighbours from Chroma, rank articles, score confidence.

    Args:
        store: The chunk store.
        classifier: The article classifier fitted on the store.
        confidence: The (calibrated) confidence model.
        top_k: Neighbours per query.
        threshold: Overrides the calibrated answer threshold when set.
        embed: Embeds the query (default: the store's model; the knowledge base passes its
            cached embedder, shared with the signal heads).
        coverage: Each article's words; when given, every retrieval says how much of the
            question the top article's text leaves out (``Retrieval.uncovered``).
        learned: When given, the confidence is the one learned across deployments
            (``knowledge.answer_model``) instead of the calibrated one, and ``threshold`` is
            on its scale.
    """

    def __init__(
        self,
        *,
        store: KnowledgeStore,
        classifier: ArticleClassifier,
        confidence: ConfidenceModel,
        top_k: int = 20,
        threshold: float | None = None,
        embed: Callable[[Sequence[str]], Vectors] | None = None,
        coverage: ArticleWords | None = None,
        passages: dict[str, ArticlePassages] | None = None,
        learned: LearnedAnswer | None = None,
    ) -> None:
        self._store = store
        self._embed = embed or store.embeddings.embed
        self._classifier = classifier
        self._confidence = confidence
        self._top_k = top_k
        self._coverage = coverage
        self._learned = learned
        self.threshold = confidence.threshold if threshold is None else threshold
        # Headers and answers of every article, for those the classifier ranks but Chroma's
        # neighbours do not include; read once, as the searcher is rebuilt on every change.
        self._articles = store.passages_by_article() if passages is None else passages
        self._leads = {a: _lead(known.passages, known.title) for a, known in self._articles.items()}

    @property
    def learned(self) -> bool:
        """Whether its confidence is the one learned across deployments."""
        return self._learned is not None

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        """Find the articles that answer ``text``, best first, with a calibrated confidence."""
        learned = self._learned
        looked = self._look(text, limit, lexical=learned is not None)
        if looked is None:
            return Retrieval(
                query=text,
                matches=(),
                confidence=0.0,
                threshold=self.threshold,
                margin=0.0,
                learned=self.learned,
            )
        hits, scored = looked.hits, looked.scored
        by_article: dict[str, list[Hit]] = defaultdict(list)
        for hit in hits:
            by_article[hit.article_id].append(hit)
        matches = tuple(
            self._match(
                candidate.article_id, candidate.similarity, by_article[candidate.article_id]
            )
            for candidate in scored.ranked
        )
        uncovered = (
            self._coverage.missing(text, matches[0].article_id)
            if self._coverage is not None and matches
            else None
        )
        confidence = (
            self._confidence.confidence(scored.features)
            if learned is None
            else learned.model.probability(
                answer_features(
                    text, scored.features, looked.evidence, learned.words, learned.question_variants
                )
            )
        )
        return Retrieval(
            query=text,
            matches=matches,
            confidence=confidence,
            threshold=self.threshold,
            margin=scored.similarity_margin,
            uncovered=uncovered,
            learned=learned is not None,
        )

    def answer_features(
        self, text: str, words: ArticleWords, question_variants: Mapping[str, int]
    ) -> tuple[npt.NDArray[np.float64], str] | None:
        """The learned model's features for ``text`` and the top article, None when nothing
        is near (``bench/answer_model.py`` trains on exactly what ``search`` reads)."""
        looked = self._look(text, 3, lexical=True)
        if looked is None or not looked.scored.ranked:
            return None
        features = answer_features(
            text, looked.scored.features, looked.evidence, words, question_variants
        )
        return features, looked.scored.ranked[0].article_id

    def _look(self, text: str, limit: int, *, lexical: bool) -> _Look | None:
        """Embed ``text``, fetch its neighbours and rank the articles (None: nothing near);
        with ``lexical``, also each article's BM25 score (what the learned model reads)."""
        vector = self._embed([text])
        hits = self._store.query(vector[0], self._top_k)
        if not hits:
            return None
        probabilities = self._classifier.probabilities(vector)
        bm25 = self._classifier.lexical_scores([text]) if lexical else None
        ranking = self._classifier.ranking(probabilities, [text], bm25)
        scored = score(
            self._classifier.classes,
            probabilities[0],
            [h.article_id for h in hits],
            [h.similarity for h in hits],
            [h.kind for h in hits],
            distances=self._classifier.distances(vector)[0],
            ranking=None if ranking is None else ranking[0],
            limit=limit,
        )
        evidence = Evidence(
            self._classifier.classes,
            probabilities[0],
            None if ranking is None else ranking[0],
            None if bm25 is None else bm25[0],
        )
        return _Look(hits, scored, evidence)

    def _match(self, article_id: str, similarity: float, hits: list[Hit]) -> ArticleMatch:
        passages = tuple(h.text for h in hits if h.kind == "passage")
        known = self._articles.get(article_id)
        tags = known.tags if known is not None else ()
        if known is not None:
            title, url, source = known.title, known.url, known.source
            passages = passages or tuple(known.passages)
        elif hits:
            title, url, source = hits[0].title, hits[0].url, hits[0].source
        else:
            title, url, source = article_id, None, ""
        return ArticleMatch(
            article_id=article_id,
            title=title,
            url=url,
            source=source,
            similarity=similarity,
            passages=passages,
            tags=tags,
            lead=self._leads.get(article_id),
        )


def _lead(passages: Sequence[str], title: str) -> str | None:
    """The one passage under the title itself (no subheading), if it was not split."""
    leads = [p for p in passages if p.partition("\n")[0].strip() == title]
    return leads[0] if len(leads) == 1 else None

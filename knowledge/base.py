"""The knowledge base: store, article classifier and confidence model kept in step."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.model import Retrieval
from config import KnowledgeSettings
from knowledge.answer_model import MAX_ARTICLES, MAX_MEDIAN_VARIANTS, AnswerModel
from knowledge.calibration import ConfidenceModel, calibrate, chunk_key
from knowledge.classifier import ArticleClassifier
from knowledge.coverage import ArticleWords
from knowledge.embeddings.base import EmbeddingModel
from knowledge.embeddings.cache import CachedEmbeddings
from knowledge.ingest import IngestProgress, IngestReport, ingest_paths
from knowledge.model_files import ModelFiles
from knowledge.search import KnowledgeSearcher, LearnedAnswer
from knowledge.store import (
    Contents,
    KnowledgeStore,
    contents_of,
    fingerprint_of,
    median_count,
)
from knowledge.traffic import REFIT_TOLERANCE, TrafficReading, TrafficShare

DEFAULT_TARGET_PRECISION = 0.9
MIN_CALIBRATION_ARTICLES = 3  # fewer: no held-out article to stand in for out-of-scope questions
FULL_CHECK_EVERY = 10  # ``follow_store`` reads every chunk id at least this often, stamp or not
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stats:
    """Figures for ``tandem kb stats``."""

    articles: int
    chunks: int
    embedding_model: str
    collection: str
    threshold: float
    calibrated: bool
    target_precision: float | None
    expected_precision: float | None
    expected_deflection: float | None
    out_of_scope_share: float
    median_question_variants: float
    learned_confidence: bool = False


FEW_QUESTION_VARIANTS = 10
"""At or below this median of question variants an article, calibration is optimistic where
out-of-scope questions sound like the knowledge base: measured on BANKING77-OOS with 5 and 10
variants an article, 0.81 and 0.87 precision at a 50 % share where 0.90 was promised (README,
*Small knowledge bases*)."""


def store_version(fingerprint: str, shared_target: float | None) -> str:
    """The version of the store that models are fitted for: its chunks and, if an admin set
    one, the target precision kept in the collection for every replica."""
    return fingerprint if shared_target is None else f"{fingerprint}@{shared_target:g}"


class KnowledgeBase:
    """Everything the rest of Tandem needs from the knowledge side.

    Args:
        settings: The knowledge settings.
        embeddings: The embedding model.
        data_dir: Overrides ``settings.data_dir`` (evaluation uses a temporary one).
    """

    def __init__(
        self,
        *,
        settings: KnowledgeSettings,
        embeddings: EmbeddingModel,
        data_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        root = data_dir or settings.data_dir
        self.data_dir = root
        self._searcher: KnowledgeSearcher | None = None
        self._models_version = 0  # one more on every change of models: a searcher built
        self._searcher_lock = threading.Lock()  # over the old ones is then not kept
        self.store = KnowledgeStore(
            embeddings=embeddings,
            collection=settings.collection,
            path=None if settings.chroma_url else root / "chroma",
            url=settings.chroma_url,
            exact_search_max_chunks=settings.exact_search_max_chunks,
        )
        self.query_embeddings = CachedEmbeddings(embeddings)
        self._model_files = ModelFiles(root / "models" / settings.collection)
        self.classifier = ArticleClassifier(np.array([], dtype=str), np.zeros((0, 0)), np.zeros(0))
        self.confidence = ConfidenceModel()
        self.live_threshold: float | None = None  # set by live outcomes (integrations.learning)
        self.traffic = TrafficShare(settings.traffic_min_questions)
        self.traffic_reading = TrafficReading(0, None, None)
        self._traffic_lock = threading.Lock()
        self._refit_lock = threading.RLock()  # one refit at a time (an ingest, a reload)
        self.fingerprint = ""  # the store's version the models were fitted on
        self._seen_fingerprint = ""  # the version ``follow_store`` saw last
        self._failed_fingerprint = ""  # a version whose refit failed here
        self._quiet_stamp: str | None = None  # the change stamp of a version acted on
        self._quiet_rounds = 0
        self._catalogue: list[tuple[str, str]] | None = None
        self._contents = Contents({}, {}, {})  # what the models serving were fitted on
        self.answer_model = _answer_model() if settings.learned_confidence != "off" else None
        self.learned_confidence = False  # the answer model decides (``learns_confidence``)
        # Since when the confidence in force has been on its scale (learned or calibrated):
        # live outcomes and answers from before were decided on the other one. None: always.
        self.scale_since: datetime | None = None
        self._saved_scale: tuple[bool, datetime | None] = (False, None)
        self._scale_known = False
        self._load_or_refresh()

    # -- model files -------------------------------------------------------------------------
    def _load_or_refresh(self) -> None:
        before = self.confidence.threshold
        try:
            saved = self._model_files.state()
            self._saved_scale = _scale_of(saved)
            if saved.get("fingerprint") == self._store_version():
                classifier, confidence = self._model_files.load(saved)
                self._swap(classifier, confidence, self.store.contents())
                if (self.learned_confidence, self.scale_since) != self._saved_scale:
                    self._keep_scale()
                self.fingerprint = str(saved["fingerprint"])
                if self.confidence.out_of_scope_share == self.settings.expected_out_of_scope:
                    if not self._lacks_share_curve():
                        self._models_changed(before)
                        return
                    logger.warning(
                        "confidence model calibrated before the share curve was kept: "
                        "recalibrating so that the threshold can follow traffic",
                        extra={"threshold": self.confidence.threshold},
                    )
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as error:
            # A file from an earlier version, or one a crash or a full disk spoiled: refit.
            logger.warning("model files unusable, refitting", extra={"reason": str(error)})
        self.refresh()

    def _store_version(self) -> str:
        return store_version(self.store.fingerprint(), self.store.shared_target())

    def _lacks_share_curve(self) -> bool:
        """A calibrated model without the share curve, where following traffic would need it."""
        return (
            self.settings.follow_traffic_share
            and self.settings.answer_threshold is None
            and self.confidence.calibrated
            and not self.confidence.share_thresholds
        )

    def _save(self, fingerprint: str) -> None:
        self._model_files.save(
            self.classifier,
            self.confidence,
            fingerprint=fingerprint,
            embedding_model=self.store.embeddings.name,
            **self._scale_state(),
        )
        self._saved_scale = (self.learned_confidence, self.scale_since)
        self.fingerprint = fingerprint

    def refresh(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Refit the classifier and recalibrate after the knowledge base changed."""
        with self._refit_lock:
            self._refit(progress)

    def _refit(
        self, progress: Callable[[int, int], None] | None, target: float | None = None
    ) -> None:
        """Refit for ``target`` precision, else the one shared in the collection."""
        shared_target = target if target is not None else self.store.shared_target()
        ids, vectors, metadatas, texts = self.store.everything_with_texts()
        articles = np.array([m["article_id"] for m in metadatas], dtype=str)
        classifier = (
            ArticleClassifier.fit(vectors, articles, texts)
            if len(articles)
            else (ArticleClassifier(articles, np.zeros((0, 0)), np.zeros(0)))
        )
        target = shared_target or self.confidence.target_precision or DEFAULT_TARGET_PRECISION
        before = self.confidence.threshold
        if len(np.unique(articles)) >= MIN_CALIBRATION_ARTICLES:
            kinds = np.array([str(m["kind"]) for m in metadatas])
            keys = [
                chunk_key(str(m["article_id"]), str(m["kind"]), str(m.get("hash", chunk_id)))
                for chunk_id, m in zip(ids, metadatas, strict=True)
            ]
            confidence = calibrate(
                vectors,
                articles,
                kinds == "question",
                kinds=kinds,
                keys=keys,
                texts=texts,
                target_precision=target,
                top_k=self.settings.top_k,
                oos_share=self.settings.expected_out_of_scope,
                progress=progress,
            )
        else:
            confidence = ConfidenceModel()
        # Swapped together once both are fitted: a failure to fit leaves the old pair serving.
        # They serve even if saving fails (they match the store; the next start refits), and
        # the searcher is rebuilt over them either way.
        self._swap(classifier, confidence, contents_of(texts, metadatas))
        try:
            self._save(store_version(fingerprint_of(ids), shared_target))
        finally:
            self._models_changed(before)

    def _swap(
        self, classifier: ArticleClassifier, confidence: ConfidenceModel, contents: Contents
    ) -> None:
        """Serve new models, with the scale they call for, all at once: a searcher being built
        reads the classifier, the confidence, the collection's contents they were fitted on and
        whether the answer model decides together.
        The scale's start moves to now when the scale changes (or first takes the learned one:
        outcomes from before it were decided on the calibrated scale)."""
        learned = self.learns_confidence(contents, confidence=confidence)
        # The scale served until now: this process's once it served one (a save that failed
        # must not make a later change back look like no change), else the saved one.
        known = (self.learned_confidence, self.scale_since)
        was, since = known if self._scale_known else self._saved_scale
        with self._searcher_lock:
            self.classifier, self.confidence = classifier, confidence
            self._contents = contents
            self.learned_confidence = learned
            self.scale_since = since if learned == was else datetime.now(UTC)
            self._scale_known = True
            if learned != was:
                self.live_threshold = None  # fitted on the other scale's outcomes
        if learned != was:
            logger.info(
                "the confidence in force changed scale: live outcomes from before are not read",
                extra={"learned_confidence": learned},
            )

    def _keep_scale(self) -> None:
        """Write the scale into the saved state; a read-only or full data directory keeps it in
        memory only (logged), which is all this process needs."""
        try:
            self._model_files.update_state(**self._scale_state())
            self._saved_scale = (self.learned_confidence, self.scale_since)
        except (OSError, ValueError) as error:
            logger.warning("could not save the confidence's scale", extra={"reason": str(error)})

    def _scale_state(self) -> dict[str, object]:
        since = self.scale_since
        return {
            "learned_confidence": self.learned_confidence,
            "scale_since": None if since is None else since.isoformat(),
        }

    def _models_changed(self, threshold_before: float) -> None:
        """After new models: the search index and the catalogue are read again, and the traffic
        window read against them (emptied if the calibrated threshold moved)."""
        self.store.reread_index()
        with self._searcher_lock:
            self._models_version += 1
            self._searcher = None
        self._catalogue = None
        with self._traffic_lock:
            if abs(self.confidence.threshold - threshold_before) > REFIT_TOLERANCE:
                self.traffic.clear()
        self._read_traffic()

    def follow_store(self) -> bool:
        """Pick up a change another process made to a shared store (a Chroma server: another
        replica's ingest or accepted suggestion, an admin's ``tandem kb ingest``): load the
        model files saved for it if they match (a shared data directory), else refit here.
        True if the models changed.

        Acts only on a version seen on two calls in a row (not on an ingest still being
        written), never twice on a version whose refit failed (the old models keep serving),
        and skips a call while this process is refitting."""
        if not self._refit_lock.acquire(blocking=False):
            return False
        try:
            # The stamp is one small read; every chunk id is read only after it changed (and
            # every FULL_CHECK_EVERY rounds, for a writer that does not stamp).
            stamp = self.store.change_stamp()
            self._quiet_rounds += 1
            if stamp is not None and stamp == self._quiet_stamp:
                if self._quiet_rounds < FULL_CHECK_EVERY:
                    return False
            self._quiet_rounds = 0
            current = self._store_version()
            seen, self._seen_fingerprint = self._seen_fingerprint, current
            if current in (self.fingerprint, self._failed_fingerprint):
                self._quiet_stamp = stamp  # nothing to do until the stamp changes
                return False
            if current != seen:
                self._quiet_stamp = None  # read every id next round, stamped or not
                return False
            self._quiet_stamp = stamp  # a write after the stamp was read has a new one
            try:
                self._load_or_refresh()  # the new models swap in whole, or not at all
            except Exception:
                self._failed_fingerprint = current
                logger.exception("the knowledge base changed elsewhere: refitting failed")
                return False
            logger.info(
                "the knowledge base changed elsewhere: models picked up",
                extra={"chunks": self.store.count(), "threshold": self.confidence.threshold},
            )
            return True
        finally:
            self._refit_lock.release()

    # -- operations --------------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path], progress: IngestProgress | None = None) -> IngestReport:
        """Ingest files and folders; refits the models if anything changed."""
        with self.changing():
            report = ingest_paths(
                self.store,
                paths,
                max_bytes=int(self.settings.max_file_mb * 1_000_000),
                chunk_size=self.settings.chunk_size,
                chunk_overlap=self.settings.chunk_overlap,
                progress=progress,
            )
            if report.changed:
                self.refresh()
        return report

    def remove(self, article_id: str) -> int:
        """Remove an article; returns the number of chunks removed."""
        with self.changing():
            removed = self.store.remove_article(article_id)
            if removed:
                self.refresh()
        return removed

    def changing(self) -> AbstractContextManager[bool]:
        """Held while this process writes the store and refits (``follow_store`` skips its
        round rather than refit a half-written change)."""
        return self._refit_lock

    def calibrate(
        self, target_precision: float, progress: Callable[[int, int], None] | None = None
    ) -> ConfidenceModel:
        """Recalibrate for a new target precision and keep it, in the collection too, so that
        every replica on a shared store (a Chroma server) recalibrates for it. The target is
        shared once the refit has succeeded and been saved: if it fails, no replica refits for
        it (a refit that fitted but could not save serves here until the next start)."""
        with self.changing():
            self._refit(progress, target=target_precision)
            self.store.share_target(target_precision)
        return self.confidence

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        """The ``Retriever`` port on the current models; a change is picked up at once."""
        searcher = self._searcher
        if searcher is None or searcher.learned != self.learned_confidence:
            version = self._models_version  # none yet, or built just before a change of scale
            searcher = self.searcher()
            with self._searcher_lock:
                if version == self._models_version:  # no refit while it was built
                    self._searcher = searcher
        found = searcher.search(text, limit=limit)
        if found.learned != self.learned_confidence:  # the scale changed meanwhile: its own
            return found
        # The threshold may follow the traffic since the searcher was built.
        threshold = self.threshold_in_force()
        return found if found.threshold == threshold else replace(found, threshold=threshold)

    def searcher(self) -> KnowledgeSearcher:
        """The ``Retriever`` for the core, with the settings' threshold override if any."""
        with self._searcher_lock:  # one set, never a new classifier with the old confidence
            classifier, confidence, contents = self.classifier, self.confidence, self._contents
            model = self._deciding_model()
            threshold = self.threshold_in_force()
        words = ArticleWords(contents.texts)
        return KnowledgeSearcher(
            store=self.store,
            classifier=classifier,
            confidence=confidence,
            top_k=self.settings.top_k,
            threshold=threshold,
            embed=self.query_embeddings.embed,
            coverage=words if self.checks_coverage(contents, confidence) else None,
            passages=contents.passages,
            learned=None if model is None else LearnedAnswer(model, words, contents.questions),
        )

    def learns_confidence(
        self, contents: Contents | None = None, confidence: ConfidenceModel | None = None
    ) -> bool:
        """Whether the confidence learned across deployments (``knowledge.answer_model``)
        decides instead of the calibrated one: on knowledge bases like those it learned on, with
        few question variants an article (a median of ``MAX_MEDIAN_VARIANTS`` or fewer) and
        at most ``MAX_ARTICLES`` articles (``TANDEM_KNOWLEDGE__LEARNED_CONFIDENCE``)."""
        if self.answer_model is None:
            return False
        articles, median = self._shape(contents)
        few = self._few_variants(articles, median, confidence)
        return few and articles <= MAX_ARTICLES and median <= MAX_MEDIAN_VARIANTS

    def checks_coverage(
        self, contents: Contents | None = None, confidence: ConfidenceModel | None = None
    ) -> bool:
        """Whether answers are checked against their article's words (``knowledge.coverage``):
        always, never, or (the default) where there are few question variants an article, as
        the classifier cannot tell a question on an article's topic that it does not answer.
        ``confidence``: the one the searcher being built serves (else the one in force)."""
        mode = self.settings.coverage_check
        if mode != "few_variants":
            return mode == "always"
        return self._few_variants(*self._shape(contents), confidence)

    def _shape(self, contents: Contents | None) -> tuple[int, float]:
        """Articles, and the median of their question variants (the collection read if not
        given)."""
        contents = contents or self.store.contents()
        return len(contents.texts), contents.median_question_variants()

    def catalogue(self) -> list[tuple[str, str]]:
        """Every article as ``(id, title)``, by title (read once per change)."""
        if self._catalogue is None:
            found = [(a.id, a.title) for a in self.store.articles()]
            self._catalogue = sorted(found, key=lambda pair: pair[1].lower())
        return self._catalogue

    def threshold_override(self) -> float | None:
        """The setting if set, else the threshold live outcomes call for, else None."""
        if self.settings.answer_threshold is not None:
            return self.settings.answer_threshold
        return self.live_threshold

    def threshold_in_force(self) -> float:
        """The threshold the bot answers at: the override if any, else the calibrated one,
        raised when the latest questions show more out-of-scope traffic than calibrated for
        (``TANDEM_KNOWLEDGE__FOLLOW_TRAFFIC_SHARE``)."""
        override = self.threshold_override()
        if override is not None:
            return override
        model = self._deciding_model()
        if model is not None:
            return model.threshold  # on its own scale, trained for its traffic
        raised = self.traffic_reading.raised_threshold
        if raised is None or not self.settings.follow_traffic_share:
            return self.confidence.threshold
        return max(self.confidence.threshold, raised)

    def base_threshold(self) -> float:
        """The threshold live outcomes are weighed against: the answer model's where it
        decides, else the calibrated one."""
        model = self._deciding_model()
        return self.confidence.threshold if model is None else model.threshold

    def _deciding_model(self) -> AnswerModel | None:
        """The answer model where it decides (``learned_confidence``), else None."""
        return self.answer_model if self.learned_confidence else None

    @property
    def calibrated_threshold(self) -> float:
        """The threshold calibration picked (``TrafficObserver``): what noted confidences are
        read against."""
        return self.confidence.threshold

    def share_traffic(self, confidences: Sequence[float], calibrated_threshold: float) -> None:
        """Read the window every replica shares (oldest first, noted under
        ``calibrated_threshold``) instead of this replica's own; nothing if a refit moved the
        calibrated threshold since they were read. It never raises (a spoilt curve must not
        stop a replica from starting)."""
        try:
            with self._traffic_lock:
                if abs(self.confidence.threshold - calibrated_threshold) > REFIT_TOLERANCE:
                    return
                self.traffic.replace(confidences)
            self._read_traffic()
        except Exception:
            logger.exception("reading the shared traffic window failed")

    def observe(self, confidence: float) -> None:
        """Note the confidence of a customer question decided on confidence alone
        (``TrafficObserver`` port); every few questions the window is read again. It is read
        with following switched off too, so that ``/metrics`` shows the share it would act on.
        It never fails the customer's turn, which is stored by then."""
        try:
            if self.traffic.add(confidence):
                self._read_traffic()
        except Exception:  # a spoilt curve must not cost the customer their answer
            logger.exception("reading the out-of-scope share of the traffic failed")

    def _read_traffic(self) -> None:
        with self._traffic_lock:
            before = self.traffic_reading.raised_threshold
            self.traffic_reading = self.traffic.read(self.confidence)
            after = self.traffic_reading.raised_threshold
        if after != before:
            logger.info(
                "the out-of-scope share of the latest questions calls for another threshold",
                extra={
                    "out_of_scope_share": self.traffic_reading.out_of_scope_share,
                    "raised_threshold": after,
                    "threshold": round(self.threshold_in_force(), 4),
                    "calibrated_threshold": round(self.confidence.threshold, 4),
                    "questions": self.traffic_reading.questions,
                },
            )

    def use_live_threshold(self, threshold: float | None) -> None:
        """Answer at ``threshold`` (from live outcomes) instead of the calibrated one (``search``
        reads the threshold in force on every call: the searcher and its index stay)."""
        self.live_threshold = threshold

    def stats(self) -> Stats:
        articles = self.store.articles()
        return Stats(
            articles=len(articles),
            chunks=self.store.count(),
            embedding_model=self.store.embeddings.name,
            collection=self.store.name,
            threshold=self.threshold_in_force(),
            calibrated=self.confidence.calibrated,
            target_precision=self.confidence.target_precision,
            expected_precision=self.confidence.expected_precision,
            expected_deflection=self.confidence.expected_deflection,
            out_of_scope_share=self.confidence.out_of_scope_share,
            median_question_variants=median_count(a.questions for a in articles),
            learned_confidence=self.learned_confidence,
        )

    def few_question_variants(self, stats: Stats) -> bool:
        """Too few question variants an article (``stats``) for the calibrated threshold to be
        trusted on traffic whose out-of-scope questions sound like the knowledge base
        (``FEW_QUESTION_VARIANTS``); a pinned threshold is the admin's own."""
        return self._few_variants(stats.articles, stats.median_question_variants)

    def _few_variants(
        self,
        articles: int,
        median_question_variants: float,
        confidence: ConfidenceModel | None = None,
    ) -> bool:
        return (
            (confidence or self.confidence).calibrated
            and self.settings.answer_threshold is None
            and articles >= 3
            and median_question_variants <= FEW_QUESTION_VARIANTS
        )

    def describe(self) -> dict[str, Any]:
        return self.stats().__dict__


def _answer_model() -> AnswerModel | None:
    """The shipped answer model, or None (logged) if its file is missing or from other code."""
    try:
        return AnswerModel.load()
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning(
            "answer model unusable: the calibrated confidence decides", extra={"reason": str(error)}
        )
        return None


def _scale_of(state: dict[str, Any]) -> tuple[bool, datetime | None]:
    """Whether the saved models answered on the learned confidence, and since when (an earlier
    release saved neither: the calibrated one, always)."""
    since = state.get("scale_since")
    return bool(state.get("learned_confidence", False)), (
        datetime.fromisoformat(since) if isinstance(since, str) else None
    )

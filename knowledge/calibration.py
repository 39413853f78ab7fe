"""Fit the confidence model and pick the answer threshold from the knowledge base alone.

No labelled test set is needed. The knowledge base's chunks are split into folds, and in each
fold the article classifier and the neighbour index are rebuilt without:

* a share of the chunks – their questions become **in-scope probes**: the answer is right when
  the top article is the question's own;
* a group of whole articles – their questions become **out-of-scope probes**: any answer is
  wrong, which simulates a question the knowledge base does not cover.

A logistic model over ``scoring.FEATURE_NAMES`` (the classifier's probabilities, neighbour
similarities and the relative distance of ``knowledge.distance``) is fitted to these probes,
and the threshold is the lowest confidence at which the expected precision still meets the
target when out-of-scope traffic makes up ``oos_share`` of all questions. Real traffic of live
bots was 42–72 % out of scope, so the default share is a conservative 0.5, and the precision the
threshold would keep at 25 %, 50 % and 75 % is reported beside it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.atomic import write_atomically
from knowledge.classifier import ArticleClassifier
from knowledge.scoring import FEATURE_NAMES, Scored, score, sigmoid

# Used until a knowledge base is calibrated; close to what calibration fits on FAQ data.
DEFAULT_WEIGHTS = (-6.0, 6.0, 3.0, 3.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
DEFAULT_THRESHOLD = 0.5
FOLDS = 5
MIN_PROBES = 500
MAX_REPEATS = 2
OOS_SHARE = 0.5
REPORTED_SHARES = (0.25, 0.5, 0.75)
ACCEPTANCE_POINTS = 101
SHARE_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 … 0.95
MIN_SEPARATION = 0.1  # in-scope and out-of-scope answer rates closer than this tell nothing
TWIN_SIMILARITY: float | None = None
"""If set, a held-out article whose question centroid is this close to one left in is no
out-of-scope probe. None: every held-out article is one, since a missing topic that sounds like
a present one is the out-of-scope question real traffic brings most."""


@dataclass
class ConfidenceModel:
    """A logistic model of P(top article is right), and the threshold to answer at."""

    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    threshold: float = DEFAULT_THRESHOLD
    target_precision: float | None = None
    expected_precision: float | None = None
    expected_deflection: float | None = None
    probes: dict[str, int] = field(default_factory=dict)
    curve: list[dict[str, float]] = field(default_factory=list)
    out_of_scope_share: float = OOS_SHARE
    by_share: list[dict[str, float | None]] = field(default_factory=list)
    features: tuple[str, ...] = FEATURE_NAMES
    acceptance: dict[str, list[float]] = field(default_factory=dict)
    """On a grid of confidences (``threshold``), the share of in-scope and of out-of-scope
    probes at or above each: what ``out_of_scope_share`` reads a traffic sample's answer rate
    against."""
    share_thresholds: dict[str, list[float]] = field(default_factory=dict)
    """The threshold that meets the target at each out-of-scope share of ``SHARE_GRID``
    (``share``, ``threshold``): what ``threshold_for_share`` reads when live traffic shows more
    out-of-scope questions than the share calibrated for."""

    def confidence(self, values: npt.NDArray[np.float64]) -> float:
        return sigmoid(float(np.dot(np.asarray(self.weights), values)))

    @property
    def calibrated(self) -> bool:
        return self.target_precision is not None

    def save(self, path: Path) -> None:
        text = json.dumps(asdict(self), indent=2).encode()
        write_atomically(path, lambda handle: handle.write(text))

    @classmethod
    def load(cls, path: Path) -> ConfidenceModel:
        data = json.loads(path.read_text())
        data["weights"] = tuple(data["weights"])
        data["features"] = tuple(data.get("features", ()))
        if data["features"] != FEATURE_NAMES or len(data["weights"]) != len(FEATURE_NAMES):
            raise ValueError("the confidence model was fitted on other features")
        if not isinstance(data.get("threshold"), int | float):
            raise ValueError("the confidence model has no threshold")
        # Fields a later release adds are left out, so that its files still load here (this
        # release's own files still refit once on a release before it, which rejects them).
        known = {f.name for f in fields(cls)}
        model = cls(**{key: value for key, value in data.items() if key in known})
        _check_curves(model)
        return model


def _check_curves(model: ConfidenceModel) -> None:
    """Raise ``ValueError`` on curves a crash or a hand spoilt (the file is then refitted)."""
    for name, keys in (
        ("acceptance", ("threshold", "in_scope", "out_of_scope")),
        ("share_thresholds", ("share", "threshold")),
    ):
        curve = getattr(model, name)
        if not curve:
            continue
        columns = [np.asarray(curve.get(key, []), dtype=np.float64) for key in keys]
        if len({len(c) for c in columns}) != 1 or not len(columns[0]):
            raise ValueError(f"the confidence model's {name} curve is malformed")
        if not all(np.isfinite(c).all() for c in columns) or np.any(np.diff(columns[0]) <= 0):
            raise ValueError(f"the confidence model's {name} curve is malformed")


def nearest(
    queries: npt.NDArray[np.float32], vectors: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Exact top-``k`` cosine neighbours of unit vectors (indices and similarities, best first)."""
    sims = queries @ vectors.T
    k = min(k, vectors.shape[0])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    order = np.argsort(-top_sims, axis=1)
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_sims, order, axis=1)


@dataclass
class Probes:
    """Held-out questions: their confidence features, whether the top article was right, and
    whether they were in scope."""

    rows: list[npt.NDArray[np.float64]] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    in_scope: list[bool] = field(default_factory=list)


def score_queries(
    classifier: ArticleClassifier,
    queries: npt.NDArray[np.float32],
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    kinds: npt.NDArray[np.str_],
    top_k: int,
    texts: Sequence[str] | None = None,
) -> list[Scored]:
    """Score each query as live search does, with exact neighbours among ``vectors`` (and the
    queries' ``texts`` for the classifier's lexical index)."""
    probabilities = classifier.probabilities(queries)
    ranking = None if texts is None else classifier.ranking(probabilities, texts)
    distances = classifier.distances(queries)
    neighbours, sims = nearest(queries, vectors, top_k)
    return [
        score(
            classifier.classes,
            probabilities[row],
            [str(a) for a in articles[neighbours[row]]],
            list(sims[row]),
            [str(k) for k in kinds[neighbours[row]]],
            distances=distances[row],
            ranking=None if ranking is None else ranking[row],
        )
        for row in range(len(queries))
    ]


def _probe_fold(
    probes: Probes,
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    kinds: npt.NDArray[np.str_],
    train: npt.NDArray[np.bool_],
    queries: list[tuple[int, bool]],
    top_k: int,
    texts: Sequence[str] | None,
) -> None:
    kept = None if texts is None else [texts[int(i)] for i in np.flatnonzero(train)]
    classifier = ArticleClassifier.fit(vectors[train], articles[train], kept)
    query_ids = [i for i, _ in queries]
    scores = score_queries(
        classifier,
        vectors[query_ids],
        vectors[train],
        articles[train],
        kinds[train],
        top_k,
        None if texts is None else [texts[i] for i in query_ids],
    )
    for scored, (chunk, scoped) in zip(scores, queries, strict=True):
        probes.rows.append(scored.features)
        probes.correct.append(scoped and scored.ranked[0].article_id == articles[chunk])
        probes.in_scope.append(scoped)


def calibrate(
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    is_question: npt.NDArray[np.bool_],
    *,
    target_precision: float,
    kinds: npt.NDArray[np.str_] | None = None,
    keys: Sequence[str] | None = None,
    texts: Sequence[str] | None = None,
    top_k: int = 20,
    oos_share: float = OOS_SHARE,
    max_probes: int = 3000,
    twin_similarity: float | None = TWIN_SIMILARITY,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ConfidenceModel:
    """Fit a ``ConfidenceModel`` that meets ``target_precision`` on held-out probes.

    Args:
        vectors: Every chunk's unit vector.
        articles: Every chunk's article id.
        is_question: Which chunks are question variants or titles.
        target_precision: Share of answers that must be right, e.g. 0.9.
        kinds: Every chunk's kind (``question``, ``title``, ``passage``); from ``is_question``
            when not given.
        keys: Every chunk's stable key (its article, kind and text: ``chunk_key``), which
            places it in a fold; by position when not given (``collect_probes``).
        texts: Every chunk's text, for the classifier's lexical index, as live search fits
            it (none: the embedding alone).
        top_k: Neighbours per query, as in live search.
        oos_share: Assumed share of out-of-scope questions in live traffic.
        max_probes: In-scope probes at most (out-of-scope probes: half as many).
        twin_similarity: If set, a held-out article whose questions' centroid is at least this
            close (cosine) to a remaining article's is not used as an out-of-scope probe (its
            twin is taken to answer it). None, the default: every held-out article is one.
        seed: Random seed for the folds.
        progress: Called with (folds done, folds).

    Raises:
        ValueError: if the knowledge base has fewer than three articles.
    """
    probes = collect_probes(
        vectors,
        articles,
        is_question,
        kinds=kinds,
        keys=keys,
        texts=texts,
        top_k=top_k,
        max_probes=max_probes,
        twin_similarity=twin_similarity,
        seed=seed,
        progress=progress,
    )
    return fit_confidence(probes, target_precision, oos_share)


def collect_probes(
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    is_question: npt.NDArray[np.bool_],
    *,
    kinds: npt.NDArray[np.str_] | None = None,
    keys: Sequence[str] | None = None,
    texts: Sequence[str] | None = None,
    top_k: int = 20,
    max_probes: int = 3000,
    twin_similarity: float | None = TWIN_SIMILARITY,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Probes:
    """The in-scope and out-of-scope probes ``calibrate`` fits on (same arguments).

    Folds are drawn by hashing each chunk's key and each article's id with the seed, not by
    position: a knowledge base that gains one question variant (an agent's accepted tag)
    keeps every other chunk and article in its fold, so its threshold moves with what changed,
    not with a new split (``bench/refit_drift.py``). An article added or removed re-deals the
    article groups (they are dealt in turn so that they differ in size by one at most)."""
    unique = np.unique(articles)
    if kinds is None:
        kinds = np.where(is_question, "question", "passage")
    if len(unique) < 3:
        raise ValueError("calibration needs at least three articles")
    keys = [str(i) for i in range(len(articles))] if keys is None else list(keys)
    folds = min(FOLDS, len(unique))
    probe_pool = is_question | ~np.isin(articles, articles[is_question])
    # Small knowledge bases repeat the folds with new splits until there are enough probes.
    repeats = int(np.clip(np.ceil(MIN_PROBES / max(int(probe_pool.sum()), 1)), 1, MAX_REPEATS))
    per_fold = max_probes // (folds * repeats)
    probes = Probes()
    twins = twins_of(vectors, articles, probe_pool, twin_similarity)
    steps, done = 2 * folds * repeats, 0
    for repeat in range(repeats):
        salt = f"{seed}:{repeat}"
        chunk_fold, article_group = folds_of(keys, articles, folds, salt)
        for fold in range(folds):
            # In-scope: the classifier has every article, but not these questions.
            train = chunk_fold != fold
            trained = set(articles[train])
            scoped = [int(i) for i in np.flatnonzero(probe_pool & ~train) if articles[i] in trained]
            drawn = _shuffled(scoped, keys, f"{salt}:{fold}:in")[:per_fold]
            queries = [(int(i), True) for i in drawn]
            # Out-of-scope: whole articles are missing from the classifier and the index.
            held = article_group == fold
            candidates = probe_pool & held
            if twins:  # an article whose twin is left in is no probe
                held_ids = set(articles[held])
                candidates &= np.array([not (twins.get(a, set()) - held_ids) for a in articles])
            outside = _shuffled(np.flatnonzero(candidates), keys, f"{salt}:{fold}:out")
            for train_mask, batch in (
                (train, queries),
                (~held, [(int(i), False) for i in outside[: per_fold // 2]]),
            ):
                if batch and len(set(articles[train_mask])) >= 2:
                    _probe_fold(probes, vectors, articles, kinds, train_mask, batch, top_k, texts)
                done += 1
                if progress:
                    progress(done, steps)
    return probes


def folds_of(
    keys: Sequence[str], articles: npt.NDArray[np.str_], folds: int, salt: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each chunk's fold (from its key) and each chunk's article group (the articles in an
    order drawn from their ids, dealt out in turn, so that groups differ in size by one at
    most). Neither depends on the other chunks' positions."""
    chunk_fold = np.array([_draw(key, f"{salt}:chunk") % folds for key in keys], dtype=np.int64)
    names = sorted({str(a) for a in articles}, key=lambda a: _draw(a, f"{salt}:article"))
    group = {name: index % folds for index, name in enumerate(names)}
    return chunk_fold, np.array([group[str(a)] for a in articles], dtype=np.int64)


def chunk_key(article_id: str, kind: str, text_hash: str) -> str:
    """A chunk's key for ``collect_probes``: the same whatever its file's version or id."""
    return f"{article_id}\0{kind}\0{text_hash}"


def _draw(key: str, salt: str) -> int:
    """A stable pseudo-random number for ``key`` (the same on every run and machine)."""
    digest = hashlib.blake2b(f"{salt}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _shuffled(
    indices: Sequence[int] | npt.NDArray[np.intp], keys: Sequence[str], salt: str
) -> list[int]:
    """``indices`` in a stable pseudo-random order of their chunks' keys."""
    return sorted((int(i) for i in indices), key=lambda i: _draw(keys[i], salt))


def twins_of(
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    pool: npt.NDArray[np.bool_],
    threshold: float | None,
) -> dict[str, set[str]]:
    """Each article's near-duplicates: articles whose question centroids are that close."""
    if threshold is None:
        return {}
    names = np.unique(articles[pool])
    centroids = np.vstack([vectors[pool & (articles == name)].mean(axis=0) for name in names])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
    similarity = centroids @ centroids.T
    np.fill_diagonal(similarity, -1.0)
    return {
        str(name): {str(names[j]) for j in np.flatnonzero(similarity[i] >= threshold)}
        for i, name in enumerate(names)
    }


def _weights(scoped: npt.NDArray[np.bool_], share: float) -> npt.NDArray[np.float64]:
    """Probe weights that make out-of-scope probes ``share`` of the weighted total."""
    n_in, n_out = int(scoped.sum()), int((~scoped).sum())
    return np.where(scoped, 1.0, (share / (1 - share)) * n_in / max(n_out, 1))


def _precision_by_rank(
    scoped: npt.NDArray[np.bool_],
    correct: npt.NDArray[np.bool_],
    order: npt.NDArray[np.intp],
    share: float,
) -> npt.NDArray[np.float64]:
    """The precision of answering the probes down to each rank of ``order`` (most confident
    first), with out-of-scope probes weighted to ``share`` of the traffic."""
    weights = _weights(scoped, share)
    return np.asarray(np.cumsum((weights * correct)[order]) / np.cumsum(weights[order]))


def fit_confidence(probes: Probes, target_precision: float, oos_share: float) -> ConfidenceModel:
    """Fit the confidence model to ``probes`` and pick the threshold for ``oos_share``."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack(probes.rows)
    y = np.asarray(probes.correct)
    scoped = np.asarray(probes.in_scope)
    n_in, n_out = int(scoped.sum()), int((~scoped).sum())
    model = ConfidenceModel(
        probes={"in_scope": n_in, "out_of_scope": n_out}, out_of_scope_share=oos_share
    )
    if y.all() or not y.any():
        return model
    regression = LogisticRegression(C=1.0, max_iter=2000, fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regression.fit(x, y, sample_weight=_weights(scoped, oos_share))
    model.weights = tuple(float(b) for b in regression.coef_[0])
    confidence = np.array([model.confidence(row) for row in x])
    order = np.argsort(-confidence)
    ranked = confidence[order]
    deflection = np.cumsum(y[order]) / max(n_in, 1)
    precision = {
        share: _precision_by_rank(scoped, y, order, share)
        for share in sorted({*REPORTED_SHARES, oos_share})
    }
    model.target_precision = target_precision
    cut = _cut(precision[oos_share], target_precision)
    if cut is None:
        model.threshold, model.expected_precision, model.expected_deflection = 1.0, None, 0.0
    else:
        model.threshold = float(ranked[cut])
        model.expected_precision = float(precision[oos_share][cut])
        model.expected_deflection = float(deflection[cut])
    chosen = int(np.searchsorted(-ranked, -model.threshold, side="right")) - 1
    for share in REPORTED_SHARES:
        own = _cut(precision[share], target_precision)
        model.by_share.append(
            {
                "out_of_scope_share": share,
                "precision_at_threshold": float(precision[share][chosen]) if chosen >= 0 else None,
                "threshold_for_share": float(ranked[own]) if own is not None else 1.0,
                "deflection_for_share": float(deflection[own]) if own is not None else 0.0,
            }
        )
    grid = np.linspace(0.0, 1.0, ACCEPTANCE_POINTS)
    model.acceptance = {
        "threshold": [round(float(t), 4) for t in grid],
        "in_scope": [round(float(np.mean(confidence[scoped] >= t)), 4) for t in grid],
        "out_of_scope": [round(float(np.mean(confidence[~scoped] >= t)), 4) for t in grid],
    }
    model.share_thresholds = _share_thresholds(scoped, y, order, ranked, target_precision)
    picks = np.linspace(0, len(order) - 1, num=min(21, len(order))).astype(int)
    model.curve = [
        {
            "threshold": float(ranked[i]),
            "deflection": float(deflection[i]),
            **{
                f"precision_{int(share * 100)}": float(precision[share][i])
                for share in REPORTED_SHARES
            },
        }
        for i in picks
    ]
    return model


def out_of_scope_share(
    model: ConfidenceModel, threshold: float, answer_rate: float
) -> float | None:
    """The share of out-of-scope questions that an answer rate implies.

    ``answer_rate`` is the share of questions decided on confidence (not escalated by a
    signal) that were answered at ``threshold``. Calibration measured the share of in-scope
    probes ``a_in`` and of out-of-scope probes ``a_out`` at or above it; traffic with a share
    ``s`` out of scope answers ``(1 - s) * a_in + s * a_out``, so ``s`` follows from the rate.
    Real in-scope questions are often worded further from the knowledge base than its own
    held-out variants, which lowers the rate and makes the estimate err high; where the missing
    topics sit next to present ones, out-of-scope questions are answered more often than the
    held-out articles were, and it errs low. Measured errors are up to 0.13 either way
    (README). None when the model has no acceptance curve (calibrated before it was kept) or
    the two rates are too close to tell apart.
    """
    rates = acceptance_at(model, threshold)
    if rates is None or not 0.0 <= answer_rate <= 1.0:  # also refuses NaN
        return None
    a_in, a_out = rates
    return float(np.clip((a_in - answer_rate) / (a_in - a_out), 0.0, 1.0))


def acceptance_at(model: ConfidenceModel, threshold: float) -> tuple[float, float] | None:
    """The shares ``(a_in, a_out)`` of in-scope and out-of-scope probes at or above
    ``threshold``; None without a curve or when they are too close to tell traffic apart."""
    curve = model.acceptance
    if not curve:
        return None
    a_in = float(np.interp(threshold, curve["threshold"], curve["in_scope"]))
    a_out = float(np.interp(threshold, curve["threshold"], curve["out_of_scope"]))
    if not a_in - a_out >= MIN_SEPARATION:  # also refuses NaN
        return None
    return a_in, a_out


def _share_thresholds(
    scoped: npt.NDArray[np.bool_],
    correct: npt.NDArray[np.bool_],
    order: npt.NDArray[np.intp],
    ranked: npt.NDArray[np.float64],
    target: float,
) -> dict[str, list[float]]:
    """The threshold that meets ``target`` at each share of ``SHARE_GRID``, never lower for a
    larger share (1.0 where none does)."""
    thresholds: list[float] = []
    for share in SHARE_GRID:
        cut = _cut(_precision_by_rank(scoped, correct, order, share), target)
        found = 1.0 if cut is None else float(ranked[cut])
        thresholds.append(max([found, *thresholds[-1:]]))
    return {"share": list(SHARE_GRID), "threshold": thresholds}


def threshold_for_share(model: ConfidenceModel, share: float) -> float | None:
    """The threshold that keeps the target at an out-of-scope ``share`` (interpolated between
    the grid's shares). None when the model has no such curve (calibrated before it was kept,
    or not calibrated)."""
    curve = model.share_thresholds
    if not curve:
        return None
    return float(np.interp(share, curve["share"], curve["threshold"]))


def _cut(precision: npt.NDArray[np.float64], target: float) -> int | None:
    """The last rank (lowest confidence) at which precision still meets ``target``."""
    meets = np.flatnonzero(precision >= target)
    return int(meets.max()) if len(meets) else None

"""Calibration on a synthetic knowledge base: the threshold it picks for an expected
out-of-scope share keeps its precision promise on fresh probes drawn the same way."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from knowledge.calibration import (
    REPORTED_SHARES,
    ConfidenceModel,
    calibrate,
    chunk_key,
    folds_of,
    out_of_scope_share,
    score_queries,
    threshold_for_share,
)
from knowledge.classifier import ArticleClassifier
from knowledge.traffic import WINDOW, TrafficReading, TrafficShare, raised_threshold

DIM = 48
ARTICLES = 40
VARIANTS = 12
NOISE = 0.4


def _unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _questions(
    rng: np.random.Generator, centres: npt.NDArray[np.float64], count: int
) -> npt.NDArray[np.float32]:
    picks = np.repeat(centres, count, axis=0)
    return _unit(picks + NOISE * rng.standard_normal(picks.shape) / np.sqrt(DIM) * 4)


@pytest.fixture(scope="module")
def world() -> dict[str, npt.NDArray[np.generic]]:
    rng = np.random.default_rng(5)
    centres = _unit(rng.standard_normal((ARTICLES + 20, DIM))).astype(np.float64)
    # Out-of-scope questions are about topics drawn like the knowledge base's own but not in it.
    known, unknown = centres[:ARTICLES], centres[ARTICLES:]
    return {
        "vectors": _questions(rng, known, VARIANTS),
        "articles": np.repeat([f"a{i}" for i in range(ARTICLES)], VARIANTS),
        "probes_in": _questions(rng, known, 15),
        "probes_in_labels": np.repeat([f"a{i}" for i in range(ARTICLES)], 15),
        "probes_out": _questions(rng, unknown, 30),
    }


def _confidences(
    model: ConfidenceModel,
    vectors: npt.NDArray[np.float32],
    articles: npt.NDArray[np.str_],
    queries: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float64], list[str]]:
    classifier = ArticleClassifier.fit(vectors, articles)
    kinds = np.full(len(articles), "question")
    scores = score_queries(classifier, queries, vectors, articles, kinds, 20)
    confidences = [model.confidence(scored.features) for scored in scores]
    tops = [scored.ranked[0].article_id for scored in scores]
    return np.asarray(confidences), tops


@pytest.mark.parametrize("share", [0.5, 0.75])
def test_precision_at_the_chosen_share_meets_the_target(
    world: dict[str, npt.NDArray[np.generic]], share: float
) -> None:
    vectors = world["vectors"].astype(np.float32)
    articles = world["articles"].astype(str)
    model = calibrate(
        vectors,
        articles,
        np.ones(len(articles), dtype=bool),
        target_precision=0.9,
        oos_share=share,
    )
    assert model.out_of_scope_share == share
    assert [row["out_of_scope_share"] for row in model.by_share] == list(REPORTED_SHARES)
    inside, tops = _confidences(model, vectors, articles, world["probes_in"].astype(np.float32))
    outside, _ = _confidences(model, vectors, articles, world["probes_out"].astype(np.float32))
    right = np.array(tops) == world["probes_in_labels"]
    answered_in = inside >= model.threshold
    answered_out = outside >= model.threshold
    weight = (share / (1 - share)) * len(inside) / len(outside)
    correct = float((answered_in & right).sum())
    precision = correct / (answered_in.sum() + weight * answered_out.sum())
    assert precision >= 0.9, (precision, model.threshold)
    assert correct / len(inside) > 0.3, "calibration still answers a good share of questions"


def test_the_threshold_does_not_depend_on_the_order_chunks_are_read_in(
    world: dict[str, npt.NDArray[np.generic]],
) -> None:
    """Folds follow each chunk's key, not its position: two replicas that read one knowledge
    base in different orders calibrate the same threshold."""
    vectors = world["vectors"].astype(np.float32)
    articles = world["articles"].astype(str)
    keys = [chunk_key(a, "question", str(i)) for i, a in enumerate(articles)]
    order = np.random.default_rng(3).permutation(len(articles))
    first, second = (
        calibrate(
            vectors[rows],
            articles[rows],
            np.ones(len(rows), dtype=bool),
            keys=[keys[i] for i in rows],
            target_precision=0.9,
        )
        for rows in (np.arange(len(articles)), order)
    )
    assert first.probes == second.probes
    assert second.threshold == pytest.approx(first.threshold, abs=1e-6)


def test_a_new_question_variant_leaves_every_other_chunk_in_its_fold(
    world: dict[str, npt.NDArray[np.generic]],
) -> None:
    """An accepted tag adds one question variant: every other chunk keeps its fold and every
    article its group, so calibration sees the same split plus one probe."""
    articles = world["articles"].astype(str)
    keys = [chunk_key(a, "question", str(i)) for i, a in enumerate(articles)]
    before = folds_of(keys, articles, 5, "0:0")
    added = [*keys, chunk_key("a3", "question", "new")]
    after = folds_of(added, np.append(articles, "a3"), 5, "0:0")
    assert np.array_equal(after[0][:-1], before[0]) and np.array_equal(after[1][:-1], before[1])
    assert sorted(np.bincount(before[1][np.unique(articles, return_index=True)[1]])) == [8] * 5


def test_a_higher_share_asks_for_more_confidence(
    world: dict[str, npt.NDArray[np.generic]],
) -> None:
    vectors = world["vectors"].astype(np.float32)
    articles = world["articles"].astype(str)
    questions = np.ones(len(articles), dtype=bool)
    low, high = (
        calibrate(
            vectors,
            articles,
            questions,
            target_precision=0.9,
            oos_share=share,
        )
        for share in (0.25, 0.75)
    )
    needs = [row["threshold_for_share"] for row in high.by_share]
    assert needs == sorted(needs), "more out-of-scope traffic needs a higher threshold"
    assert high.threshold >= low.threshold
    assert all(c["precision_75"] <= c["precision_25"] for c in high.curve)
    assert high.expected_deflection is not None and low.expected_deflection is not None
    assert high.expected_deflection <= low.expected_deflection


def test_the_answer_rate_of_fresh_traffic_tells_its_out_of_scope_share(
    world: dict[str, npt.NDArray[np.generic]],
) -> None:
    """Traffic mixed at 25, 50 and 75 % out of scope, from fresh probes: the share read from
    its answer rate at the calibrated threshold rises with the true share and tells a quarter
    from three quarters. Here fresh in-scope questions are answered more often than the
    held-out probes calibration saw (the full knowledge base knows their neighbours), so the
    estimate errs low; on real traffic it errs either way (README)."""
    vectors = world["vectors"].astype(np.float32)
    articles = world["articles"].astype(str)
    model = calibrate(vectors, articles, np.ones(len(articles), dtype=bool), target_precision=0.9)
    assert len(model.acceptance["threshold"]) == len(model.acceptance["in_scope"]) == 101
    inside, _ = _confidences(model, vectors, articles, world["probes_in"].astype(np.float32))
    outside, _ = _confidences(model, vectors, articles, world["probes_out"].astype(np.float32))
    rate_in, rate_out = np.mean(inside >= model.threshold), np.mean(outside >= model.threshold)
    estimates = []
    for share in (0.25, 0.5, 0.75):
        rate = float((1 - share) * rate_in + share * rate_out)
        estimate = out_of_scope_share(model, model.threshold, rate)
        assert estimate is not None
        estimates.append(estimate)
    assert estimates == sorted(estimates) and estimates[2] - estimates[0] >= 0.3, estimates
    assert all(abs(e - s) <= 0.3 for e, s in zip(estimates, (0.25, 0.5, 0.75), strict=True))


def test_a_model_file_with_fields_of_a_newer_release_still_loads(tmp_path: Path) -> None:
    model = ConfidenceModel(threshold=0.7, target_precision=0.9)
    model.save(tmp_path / "confidence.json")
    saved = json.loads((tmp_path / "confidence.json").read_text())
    saved["something_newer"] = [1, 2, 3]
    (tmp_path / "confidence.json").write_text(json.dumps(saved))
    assert ConfidenceModel.load(tmp_path / "confidence.json") == model


def test_spoilt_curves_or_no_threshold_are_refused_on_load(tmp_path: Path) -> None:
    path = tmp_path / "confidence.json"
    model = ConfidenceModel(threshold=0.7, target_precision=0.9)
    for spoil in (
        {"share_thresholds": {"share": [0.1, 0.2], "threshold": [0.5]}},
        {"share_thresholds": {"share": [0.2, 0.1], "threshold": [0.5, 0.6]}},
        {"acceptance": {"threshold": [0.0, 1.0], "in_scope": [1.0, None], "out_of_scope": [1, 0]}},
        {"threshold": None},
    ):
        model.save(path)
        path.write_text(json.dumps({**json.loads(path.read_text()), **spoil}))
        with pytest.raises(ValueError):
            ConfidenceModel.load(path)


def _curved(shares_to_thresholds: dict[float, float]) -> ConfidenceModel:
    """A model whose probes separate well: all in-scope ones at or above 0.6, a tenth of the
    out-of-scope ones."""
    grid = [round(i / 100, 2) for i in range(101)]
    return ConfidenceModel(
        threshold=0.6,
        target_precision=0.9,
        out_of_scope_share=0.5,
        acceptance={
            "threshold": grid,
            "in_scope": [1.0 if t <= 0.6 else 0.5 for t in grid],
            "out_of_scope": [1.0 if t == 0 else 0.1 for t in grid],
        },
        share_thresholds={
            "share": list(shares_to_thresholds),
            "threshold": list(shares_to_thresholds.values()),
        },
    )


def test_a_raise_never_reaches_the_no_threshold_marker() -> None:
    """Where no threshold meets the target at a share (1.0), the raise stops at the last one
    that does, and a larger share never asks for less."""
    model = _curved({0.5: 0.6, 0.6: 0.65, 0.7: 0.7, 0.8: 0.8, 0.85: 1.0, 0.9: 1.0, 0.95: 1.0})
    raised = [raised_threshold(model, rate, WINDOW) for rate in np.linspace(0.4, 0.1, 31)]
    assert all(r is None or r <= 0.8 for r in raised)
    found = [r for r in raised if r is not None]
    assert found and found == sorted(found) and found[-1] == pytest.approx(0.8)
    nothing = _curved({0.5: 1.0, 0.95: 1.0})
    assert raised_threshold(nothing, 0.1, WINDOW) is None, "silence is left to labelled evidence"


def test_no_share_is_read_without_an_acceptance_curve() -> None:
    assert out_of_scope_share(ConfidenceModel(), 0.5, 0.4) is None
    assert threshold_for_share(ConfidenceModel(), 0.7) is None


def test_the_threshold_for_any_share_is_the_one_calibration_reports(
    world: dict[str, npt.NDArray[np.generic]],
) -> None:
    vectors = world["vectors"].astype(np.float32)
    articles = world["articles"].astype(str)
    model = calibrate(vectors, articles, np.ones(len(articles), dtype=bool), target_precision=0.9)
    curve = model.share_thresholds["threshold"]
    assert curve == sorted(curve), "a larger share never asks for less confidence"
    assert threshold_for_share(model, model.out_of_scope_share) == pytest.approx(
        model.threshold, abs=1e-4
    )
    for row in model.by_share:
        share, needed = row["out_of_scope_share"], row["threshold_for_share"]
        assert share is not None and needed is not None
        assert threshold_for_share(model, share) == pytest.approx(needed, abs=1e-4)
    low, between, high = (threshold_for_share(model, s) for s in (0.5, 0.52, 0.55))
    assert low is not None and between is not None and high is not None
    assert between == pytest.approx(low + 0.4 * (high - low)), "interpolated between shares"


def _traffic(
    rng: np.random.Generator,
    inside: npt.NDArray[np.float64],
    outside: npt.NDArray[np.float64],
    share: float,
    count: int = 600,
) -> npt.NDArray[np.float64]:
    out_count = round(count * share)
    mixed = np.concatenate([rng.choice(inside, count - out_count), rng.choice(outside, out_count)])
    rng.shuffle(mixed)
    return mixed


def test_traffic_with_more_out_of_scope_questions_raises_the_threshold(
    world: dict[str, npt.NDArray[np.generic]],
) -> None:
    """Calibrated for a quarter out of scope, the bot sees three quarters: the window reads a
    larger share and asks for the threshold calibration found for it, whose precision on that
    traffic is higher. Traffic as expected, or fewer questions than the minimum, moves
    nothing."""
    vectors = world["vectors"].astype(np.float32)
    articles = world["articles"].astype(str)
    model = calibrate(
        vectors, articles, np.ones(len(articles), dtype=bool), target_precision=0.9, oos_share=0.25
    )
    inside, tops = _confidences(model, vectors, articles, world["probes_in"].astype(np.float32))
    outside, _ = _confidences(model, vectors, articles, world["probes_out"].astype(np.float32))
    right = np.array(tops) == world["probes_in_labels"]
    rng = np.random.default_rng(1)

    busy = TrafficShare(min_questions=200)
    seen = [float(confidence) for confidence in _traffic(rng, inside, outside, 0.75)]
    for confidence in seen:
        busy.add(confidence)
    reading = busy.read(model)
    assert reading.questions == 600
    assert reading.out_of_scope_share is not None and reading.out_of_scope_share > 0.25
    assert reading.raised_threshold is not None and reading.raised_threshold > model.threshold

    def precision(threshold: float) -> float:
        correct = float(((inside >= threshold) & right).sum())
        weight = 3 * len(inside) / len(outside)  # three out-of-scope questions to one
        return correct / ((inside >= threshold).sum() + weight * (outside >= threshold).sum())

    assert precision(reading.raised_threshold) > precision(model.threshold)

    # Another replica, or this one after a restart, reads the window from the store: the same.
    shared = TrafficShare(min_questions=200)
    shared.add(0.99)
    shared.replace([*seen, float("nan")])
    assert shared.read(model) == reading

    calm = TrafficShare(min_questions=200)
    for confidence in _traffic(rng, inside, outside, 0.1):
        calm.add(float(confidence))
    assert calm.read(model).raised_threshold is None

    early = TrafficShare(min_questions=200)
    for confidence in _traffic(rng, inside, outside, 0.75, count=150):
        early.add(float(confidence))
    assert early.read(model) == TrafficReading(150, None, None)


def _near(
    rng: np.random.Generator, centres: npt.NDArray[np.float64], count: int
) -> npt.NDArray[np.float32]:
    """Questions close to their topic: neighbouring topics stay apart."""
    picks = np.repeat(centres, count, axis=0)
    return _unit(picks + 0.5 * rng.standard_normal(picks.shape) / np.sqrt(DIM))


def test_a_missing_topic_next_to_a_known_one_is_out_of_scope() -> None:
    """Half the out-of-scope traffic asks about topics that sit right next to one the knowledge
    base has (its missing sibling), as much real traffic does ("how long will my card take?"
    beside "my card has not arrived"). Calibration must count such questions as out of scope:
    a knowledge base whose own articles come in sibling pairs shows what they look like."""
    rng = np.random.default_rng(5)
    base = _unit(rng.standard_normal((20, DIM))).astype(np.float64)
    siblings = _unit(base + 0.5 * _unit(rng.standard_normal((20, DIM)))).astype(np.float64)
    known = np.vstack([base, siblings[:10]])
    strangers = _unit(rng.standard_normal((10, DIM))).astype(np.float64)
    names = np.array([f"a{i}" for i in range(len(known))])
    vectors, articles = _near(rng, known, 12), np.repeat(names, 12)
    model = calibrate(vectors, articles, np.ones(len(articles), dtype=bool), target_precision=0.9)
    inside, tops = _confidences(model, vectors, articles, _near(rng, known, 15))
    outside, _ = _confidences(
        model,
        vectors,
        articles,
        np.vstack([_near(rng, siblings[10:], 15), _near(rng, strangers, 15)]),
    )
    right = np.array(tops) == np.repeat(names, 15)
    correct = float((inside >= model.threshold)[right].sum())
    answered = (inside >= model.threshold).sum() + (outside >= model.threshold).sum() * len(
        inside
    ) / len(outside)
    # About 0.86-0.92 over seeds (0.92 on this one); the old cut-off gave about 0.65 on each.
    assert correct / answered >= 0.85, (correct / answered, model.threshold)
    assert correct / len(inside) > 0.5

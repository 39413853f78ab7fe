"""The relative distance of a question to each article: fitted, saved and loaded with the
classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from knowledge.classifier import ArticleClassifier

DIM = 32
ARTICLES = 6
VARIANTS = 10


def _unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def knowledge() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    """Articles clustered around centres in the first half of the space only."""
    rng = np.random.default_rng(5)
    centres = np.zeros((ARTICLES, DIM))
    centres[:, : DIM // 2] = rng.normal(size=(ARTICLES, DIM // 2))
    noise = 0.3 * rng.normal(size=(ARTICLES * VARIANTS, DIM))
    vectors = np.repeat(centres, VARIANTS, axis=0) + noise
    labels = np.repeat([f"a{i}" for i in range(ARTICLES)], VARIANTS)
    return _unit(vectors), labels.astype(str), centres


def test_a_question_is_closest_to_its_own_article(
    knowledge: tuple[npt.NDArray[np.float32], npt.NDArray[np.str_], npt.NDArray[np.float64]],
) -> None:
    vectors, labels, centres = knowledge
    classifier = ArticleClassifier.fit(vectors, labels)
    rng = np.random.default_rng(6)
    fresh = _unit(centres + 0.3 * rng.normal(size=centres.shape))
    distances = classifier.distances(fresh)
    assert distances.shape == (ARTICLES, ARTICLES)
    assert list(classifier.classes[distances.argmin(axis=1)]) == [f"a{i}" for i in range(ARTICLES)]


def test_a_question_off_the_knowledge_base_is_farther_than_one_on_it(
    knowledge: tuple[npt.NDArray[np.float32], npt.NDArray[np.str_], npt.NDArray[np.float64]],
) -> None:
    vectors, labels, centres = knowledge
    classifier = ArticleClassifier.fit(vectors, labels)
    rng = np.random.default_rng(7)
    inside = _unit(centres + 0.3 * rng.normal(size=centres.shape))
    # The same articles' directions, pulled into the half of the space no article uses.
    off = centres + 0.3 * rng.normal(size=centres.shape)
    off[:, DIM // 2 :] += 1.5 * rng.normal(size=(ARTICLES, DIM // 2))
    outside = _unit(off)
    # The classifier still picks an article for each; the distance to that article is larger.
    picked_in = classifier.probabilities(inside).argmax(axis=1)
    picked_out = classifier.probabilities(outside).argmax(axis=1)
    rows = np.arange(ARTICLES)
    assert (
        classifier.distances(outside)[rows, picked_out].min()
        > classifier.distances(inside)[rows, picked_in].max()
    )


def test_the_distances_survive_saving_and_loading(
    knowledge: tuple[npt.NDArray[np.float32], npt.NDArray[np.str_], npt.NDArray[np.float64]],
    tmp_path: Path,
) -> None:
    vectors, labels, _ = knowledge
    classifier = ArticleClassifier.fit(vectors, labels)
    classifier.save(tmp_path / "classifier.npz")
    again = ArticleClassifier.load(tmp_path / "classifier.npz")
    assert np.allclose(again.distances(vectors[:5]), classifier.distances(vectors[:5]))


def test_a_classifier_saved_without_distances_is_refused(tmp_path: Path) -> None:
    """A knowledge base saved by an earlier version is refitted, not scored without them."""
    path = tmp_path / "classifier.npz"
    with path.open("wb") as handle:
        np.savez(handle, classes=np.array(["a", "b"]), coef=np.zeros((2, 3)), intercept=np.zeros(2))
    with pytest.raises(KeyError):
        ArticleClassifier.load(path)


def test_a_one_article_knowledge_base_still_measures_distance() -> None:
    rng = np.random.default_rng(8)
    vectors = _unit(rng.normal(size=(4, DIM)))
    classifier = ArticleClassifier.fit(vectors, np.array(["only"] * 4))
    assert classifier.distances(vectors).shape == (4, 1)
    assert np.isfinite(classifier.distances(vectors)).all()


def test_articles_of_one_chunk_and_a_near_duplicate_pair_keep_distances_bounded() -> None:
    """A docs-only knowledge base where one article got a near-identical variant taught."""
    rng = np.random.default_rng(9)
    vectors = _unit(rng.normal(size=(20, DIM)))
    twin = _unit(vectors[:1] + 1e-4 * rng.normal(size=(1, DIM)))
    labels = np.array([f"a{i:02d}" for i in range(20)] + ["a00"])
    classifier = ArticleClassifier.fit(np.vstack([vectors, twin]), labels)
    questions = _unit(rng.normal(size=(50, DIM)))
    distances = classifier.distances(questions)
    assert np.isfinite(distances).all()
    assert np.abs(distances).max() < 50

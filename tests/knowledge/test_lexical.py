"""BM25 over each article's words, and how its scores join the classifier's ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from knowledge.classifier import ArticleClassifier
from knowledge.lexical import LexicalIndex
from knowledge.scoring import FEATURE_NAMES, score

CHUNKS = [
    ("backup", "Should I save my photos before the repair?"),
    ("backup", "Back up your phone to iCloud or Google Drive before you hand it in."),
    ("prices", "How much is a new screen?"),
    ("prices", "A screen replacement costs £149 and includes a 12-month warranty."),
    ("hours", "When are you open?"),
    ("hours", "We open 9 to 6 on weekdays and 10 to 4 on Saturdays."),
]


@pytest.fixture
def index() -> LexicalIndex:
    labels = np.array([label for label, _ in CHUNKS], dtype=str)
    return LexicalIndex.fit([text for _, text in CHUNKS], labels, np.unique(labels))


def test_a_rare_word_of_an_answer_ranks_its_article_first(index: LexicalIndex) -> None:
    scores = index.scores(["is it worth putting everything on icloud first"])
    assert scores.shape == (1, 3)
    backup, hours, prices = scores[0]  # classes in sorted order
    assert backup > 0 and hours == 0 and prices == 0


def test_words_no_article_holds_score_nothing_and_a_repeat_counts_once(
    index: LexicalIndex,
) -> None:
    assert not index.scores(["do you sell cases for tablets", ""]).any()
    once, twice = index.scores(["warranty", "warranty warranty warranty"])
    assert np.allclose(once, twice) and once[2] > 0


def test_a_word_every_article_holds_weighs_less_than_one_only_one_holds() -> None:
    labels = np.array(["a", "b", "c"])
    texts = ["refund parcel", "refund courier", "refund invoice"]
    index = LexicalIndex.fit(texts, labels, labels)
    common, rare = index.scores(["refund", "courier"])
    assert rare[1] > common[1] > 0


def _unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_the_words_turn_a_close_call_of_the_embedding(tmp_path: Path) -> None:
    """A question whose embedding sits a little nearer one article, but which names a word
    only the other's answer holds, goes to the other; the index is saved with the classifier."""
    rng = np.random.default_rng(3)
    names = ["backup", "prices", "hours", "parking", "warranty", "delivery"]
    centres = rng.normal(size=(len(names), 16))
    vectors = _unit(np.repeat(centres, 4, axis=0) + 0.2 * rng.normal(size=(24, 16)))
    labels = np.repeat(names, 4).astype(str)
    texts = [
        text
        for name in names
        for text in [f"{name} question"] * 3
        + ["back up to icloud" if name == "backup" else f"{name} answer"]
    ]
    classifier = ArticleClassifier.fit(vectors, labels, texts)
    query = _unit((0.38 * centres[0] + 0.62 * centres[1])[None, :])
    probabilities = classifier.probabilities(query)
    assert classifier.classes[int(np.argmax(probabilities[0]))] == "prices"
    worded = classifier.ranking(probabilities, ["worth putting it all on icloud?"])
    assert worded is not None
    assert classifier.classes[int(np.argmax(worded[0]))] == "backup"
    unrelated = classifier.ranking(probabilities, ["is it worth it?"])
    assert unrelated is not None
    assert np.allclose(unrelated, np.log(probabilities)), "words no article holds add nothing"
    classifier.save(tmp_path / "classifier.npz")
    again = ArticleClassifier.load(tmp_path / "classifier.npz")
    reloaded = again.ranking(again.probabilities(query), ["worth putting it all on icloud?"])
    assert reloaded is not None and np.allclose(reloaded, worded)


def test_a_classifier_saved_without_its_lexical_index_is_refused(tmp_path: Path) -> None:
    """An earlier version's file is refitted (with the index), not scored without it."""
    rng = np.random.default_rng(4)
    vectors = _unit(rng.normal(size=(6, 8)))
    classifier = ArticleClassifier.fit(vectors, np.repeat(["a", "b", "c"], 2).astype(str))
    path = tmp_path / "classifier.npz"
    classifier.save(path)
    with np.load(path) as data:
        kept = {k: data[k] for k in data.files if not k.startswith("lexical_")}
    with path.open("wb") as handle:
        np.savez(handle, **kept)
    with pytest.raises(KeyError):
        ArticleClassifier.load(path)


def test_the_confidence_reads_the_embedding_of_the_article_the_words_rank_first() -> None:
    """Where the words overturn the embedding, the top article is theirs, but its probability
    and margin are the embedding's: the bot is unsure rather than sure of either."""
    classes = np.array(["backup", "hours", "prices"])
    probabilities = np.array([0.3, 0.1, 0.6])
    ranking = np.log(probabilities) + np.array([1.0, 0.0, 0.0])
    plain = score(classes, probabilities, ["prices"], [0.8])
    worded = score(classes, probabilities, ["prices"], [0.8], ranking=ranking)
    assert [a.article_id for a in worded.ranked[:2]] == ["backup", "prices"]
    probability, margin = (
        FEATURE_NAMES.index("probability"),
        FEATURE_NAMES.index("probability_margin"),
    )
    assert worded.features[probability] == pytest.approx(0.3)
    assert worded.features[margin] == pytest.approx(-0.3)
    assert plain.ranked[0].article_id == "prices"
    assert plain.features[margin] == pytest.approx(0.3)

"""BM25 over each article's words, and how its scores join the classifier's ranking."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from knowledge.base import KnowledgeBase
from knowledge.calibration import collect_probes
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
    distances = np.array([0.1, 0.2, 0.3])
    plain = score(classes, probabilities, ["prices"], [0.8], distances=distances)
    worded = score(classes, probabilities, ["prices"], [0.8], distances=distances, ranking=ranking)
    assert [a.article_id for a in worded.ranked[:2]] == ["backup", "prices"]
    probability, margin = (
        FEATURE_NAMES.index("probability"),
        FEATURE_NAMES.index("probability_margin"),
    )
    assert worded.features[probability] == pytest.approx(0.3)
    assert worded.features[margin] == pytest.approx(-0.3)
    assert plain.ranked[0].article_id == "prices"
    assert plain.features[margin] == pytest.approx(0.3)
    distance = FEATURE_NAMES.index("relative_distance")
    assert (worded.features[distance], plain.features[distance]) == (0.1, 0.3)


def test_calibration_ranks_its_probes_with_their_own_texts() -> None:
    """Probes are ranked as live questions are: with the words of the held-out chunk itself.
    Here the embeddings say nearly nothing (one vector, a trace of noise), so only aligned
    texts rank the in-scope probes right; no texts, or texts of other chunks, leave them at
    chance."""
    rng = np.random.default_rng(11)
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
    articles = np.repeat(names, 10).astype(str)
    vectors = _unit(np.ones((len(articles), 16)) + 0.001 * rng.normal(size=(len(articles), 16)))
    texts = [f"question about {name} number {i}" for i, name in enumerate(articles)]
    questions = np.ones(len(articles), dtype=bool)

    def right(chunk_texts: list[str] | None) -> float:
        probes = collect_probes(vectors, articles, questions, texts=chunk_texts)
        scoped = np.array(probes.in_scope)
        return float(np.array(probes.correct)[scoped].mean())

    assert right(texts) > 0.9
    assert right(None) < 0.5
    shuffled = [texts[i] for i in rng.permutation(len(texts))]
    assert right(shuffled) < 0.5  # each chunk with some other chunk's words


def test_live_search_ranks_by_the_classifiers_ranking(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The searcher orders the articles by ``ArticleClassifier.ranking`` and reads the
    embedding's probability of the first: a ranking that turns the probabilities upside down
    puts the least likely article first, with a confidence to match."""
    faq = tmp_path / "faq.jsonl"
    rows = [
        {"id": "returns", "question": "How do I return an item?", "answer": "Use the portal."},
        {"id": "returns", "question": "Can I send my order back?"},
        {"id": "payment", "question": "Which cards do you accept?", "answer": "Visa."},
        {"id": "payment", "question": "Can I pay with PayPal?"},
        {"id": "delivery", "question": "How long does delivery take?", "answer": "Three days."},
        {"id": "delivery", "question": "When will my parcel arrive?"},
    ]
    faq.write_text("\n".join(json.dumps(row) for row in rows))
    empty_kb.ingest([faq])
    question = "Can I pay with PayPal?"
    before = empty_kb.searcher().search(question)
    assert before.best is not None and before.best.article_id == "payment"
    probabilities = empty_kb.classifier.probabilities(empty_kb.store.embeddings.embed([question]))
    least = str(empty_kb.classifier.classes[int(np.argmin(probabilities[0]))])

    def upside_down(
        self: ArticleClassifier,
        probabilities: npt.NDArray[np.float64],
        texts: list[str],
        bm25: npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float64]:
        return -np.log(probabilities)

    monkeypatch.setattr(ArticleClassifier, "ranking", upside_down)
    after = (
        KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
        .searcher()
        .search(question)
    )
    assert after.best is not None and after.best.article_id == least
    assert after.confidence < before.confidence

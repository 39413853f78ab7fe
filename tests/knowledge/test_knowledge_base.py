from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, NoReturn

import numpy as np
import pytest

from config import KnowledgeSettings
from knowledge.atomic import write_atomically
from knowledge.base import KnowledgeBase
from knowledge.embeddings import EmbeddingError
from knowledge.errors import EmbeddingMismatch
from knowledge.model_files import ModelFiles
from knowledge.store import KnowledgeStore


def _faq(path: Path, answer: str = "Use the returns page.") -> Path:
    rows = [
        {"id": "returns", "question": "How do I return an item?", "answer": answer},
        {"id": "returns", "question": "Can I send my order back?"},
        {
            "id": "payment",
            "question": "Which cards do you accept?",
            "answer": "Visa and Mastercard.",
        },
        {"id": "payment", "question": "Can I pay with PayPal?"},
        {"id": "delivery", "question": "How long does delivery take?", "answer": "Three days."},
        {"id": "delivery", "question": "When will my parcel arrive?"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_reingest_unchanged_is_a_noop(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    faq = _faq(tmp_path / "faq.jsonl")
    first = empty_kb.ingest([faq])
    count = empty_kb.store.count()
    second = empty_kb.ingest([faq])
    assert (len(first.added), len(second.unchanged), second.chunks) == (1, 1, 0)
    assert empty_kb.store.count() == count == 9


def test_a_removed_article_comes_back_when_its_file_is_ingested_again(
    empty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    """The file is the source of truth: ingesting it again stores all of it, the article
    ``kb remove`` took out of it included (as for a file holding one article)."""
    faq = _faq(tmp_path / "faq.jsonl")
    empty_kb.ingest([faq])
    count = empty_kb.store.count()
    assert empty_kb.remove("payment") == 3
    report = empty_kb.ingest([faq])
    assert (report.updated, report.chunks) == ([str(faq)], 3), "only the removed part written"
    assert empty_kb.store.count() == count
    assert {a.id for a in empty_kb.store.articles()} == {"returns", "payment", "delivery"}
    found = empty_kb.search("can I pay with PayPal")
    assert found.best is not None and found.best.article_id == "payment"
    assert empty_kb.ingest([faq]).unchanged == [str(faq)]


def test_an_article_id_two_files_share_is_reported(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    faq = _faq(tmp_path / "faq.jsonl")
    other = tmp_path / "crypto.jsonl"
    other.write_text(json.dumps({"id": "payment", "question": "Bitcoin?", "answer": "No."}))
    assert empty_kb.ingest([faq]).shared_ids == []
    report = empty_kb.ingest([faq, other])
    assert report.shared_ids == [("payment", str(other), (str(faq),))]
    assert empty_kb.ingest([faq]).shared_ids == [("payment", str(faq), (str(other),))]


def test_changed_source_replaces_its_chunks(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    faq = _faq(tmp_path / "faq.jsonl")
    empty_kb.ingest([faq])
    _faq(faq, answer="Returns are free within 30 days.")
    report = empty_kb.ingest([faq])
    assert len(report.updated) == 1
    assert empty_kb.store.count() == 9
    assert passages_of(empty_kb, "returns") == ["Returns are free within 30 days."]


def test_a_bad_file_does_not_stop_the_batch(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    _faq(tmp_path / "docs" / "faq.jsonl")
    (tmp_path / "docs" / "broken.csv").write_text("nope\n1\n")
    report = empty_kb.ingest([tmp_path / "docs", tmp_path / "missing.md"])
    assert len(report.added) == 1
    assert {Path(p).name for p, _ in report.failed} == {"broken.csv", "missing.md"}


def test_remove_article(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    assert empty_kb.remove("payment") == 3
    assert empty_kb.remove("payment") == 0
    assert {a.id for a in empty_kb.store.articles()} == {"returns", "delivery"}


def test_chunks_keep_their_metadata(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    faq = _faq(tmp_path / "faq.jsonl")
    empty_kb.ingest([faq])
    _, _, metadatas = empty_kb.store.everything()
    for meta in metadatas:
        assert meta["source"] == str(faq.resolve())
        assert meta["article_id"] and meta["title"] and len(meta["hash"]) == 16


def test_collection_refuses_another_embedding_model(
    empty_kb: KnowledgeBase, knowledge_settings: KnowledgeSettings, tmp_path: Path
) -> None:
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])

    class OtherModel:
        name = "other-model"

        def embed(self, texts: object) -> object:
            raise AssertionError("never called")

    with pytest.raises(EmbeddingMismatch, match="built with the embedding model"):
        KnowledgeStore(
            embeddings=OtherModel(),
            collection=knowledge_settings.collection,
            path=knowledge_settings.data_dir / "chroma",
        )


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("how long until my refund shows up", "refund-timing"),
        ("do you take apple pay", "payment-methods"),
        ("I forgot my password", "account-password"),
        ("can I get a VAT invoice", "invoice"),
    ],
)
def test_sample_kb_answers_with_the_right_article(
    sample_kb: KnowledgeBase, question: str, article: str
) -> None:
    retrieval = sample_kb.searcher().search(question)
    assert retrieval.best is not None
    assert retrieval.best.article_id == article
    assert retrieval.confidence >= retrieval.threshold
    assert retrieval.best.passages and retrieval.best.url


def test_the_ranking_hears_the_words_of_the_stored_articles(
    empty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    """The classifier's BM25 index is fitted from the stored chunks' texts: a word only one
    article's answer holds lifts that article alone."""
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl", answer="Print the label from the portal.")])
    vector = empty_kb.store.embeddings.embed(["is there a portal for this"])
    probabilities = empty_kb.classifier.probabilities(vector)
    ranking = empty_kb.classifier.ranking(probabilities, ["is there a portal for this"])
    assert ranking is not None
    lifted = ranking[0] - np.log(probabilities[0])
    assert [str(a) for a in empty_kb.classifier.classes[lifted > 1e-9]] == ["returns"]


def test_out_of_scope_question_has_low_confidence(sample_kb: KnowledgeBase) -> None:
    retrieval = sample_kb.searcher().search("what is the capital of France")
    assert retrieval.confidence < retrieval.threshold


def test_calibration_is_stored_and_reloaded(sample_kb: KnowledgeBase, embeddings: object) -> None:
    stats = sample_kb.stats()
    assert stats.calibrated and stats.target_precision == 0.9
    assert stats.expected_precision is not None and stats.expected_precision >= 0.9
    reopened = KnowledgeBase(settings=sample_kb.settings, embeddings=sample_kb.store.embeddings)
    assert reopened.stats().threshold == pytest.approx(stats.threshold)


def test_a_failed_update_keeps_the_old_version(
    empty_kb: KnowledgeBase, tmp_path: Path, embeddings: object
) -> None:
    faq = _faq(tmp_path / "faq.jsonl")
    empty_kb.ingest([faq])
    _faq(faq, answer="A new answer.")

    class FailingModel:
        name = empty_kb.store.embeddings.name

        def embed(self, texts: object) -> object:
            raise EmbeddingError("endpoint down")

    working = empty_kb.store.embeddings
    empty_kb.store.embeddings = FailingModel()  # type: ignore[assignment]
    report = empty_kb.ingest([faq])
    empty_kb.store.embeddings = working
    assert report.failed == [(str(faq), "embedding failed (endpoint down)")]
    assert passages_of(empty_kb, "returns") == ["Use the returns page."]
    assert len(empty_kb.ingest([faq]).updated) == 1
    assert passages_of(empty_kb, "returns") == ["A new answer."]
    assert empty_kb.store.count() == 9


def passages_of(kb: KnowledgeBase, article_id: str) -> list[str]:
    return list(kb.store.passages_by_article()[article_id].passages)


def test_twin_articles_are_found_by_their_question_centroids() -> None:
    from knowledge.calibration import twins_of

    rng = np.random.default_rng(1)
    base = rng.normal(size=(3, 16)).astype(np.float32)
    base[1] = base[0] + 0.05 * rng.normal(size=16)  # article b nearly repeats article a
    vectors = np.repeat(base, 4, axis=0)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    articles = np.repeat(np.array(["a", "b", "c"]), 4)
    pool = np.ones(len(articles), dtype=bool)
    assert twins_of(vectors, articles, pool, 0.9) == {"a": {"b"}, "b": {"a"}, "c": set()}
    assert twins_of(vectors, articles, pool, None) == {}


def test_an_empty_knowledge_base_finds_nothing_rather_than_failing(empty_kb: KnowledgeBase) -> None:
    retrieval = empty_kb.search("Where is my order?")
    assert retrieval.best is None and retrieval.matches == ()


def _model_file(kb: KnowledgeBase, kind: str) -> Path:
    """The saved model file of one kind (classifier, confidence or state) in use."""
    folder = kb.data_dir / "models" / kb.settings.collection
    if kind == "state":
        return folder / "state.json"
    return folder / str(json.loads((folder / "state.json").read_text())["files"][kind])


def _without_lexical_index(data: bytes) -> bytes:
    """A classifier file as the release before the BM25 index saved it."""
    with np.load(io.BytesIO(data)) as arrays:
        kept = {k: arrays[k] for k in arrays.files if not k.startswith("lexical_")}
    out = io.BytesIO()
    np.savez(out, **kept)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "spoil"),
    [
        ("classifier", _without_lexical_index),
        ("classifier", lambda data: data[: len(data) // 2]),
        ("classifier", lambda data: b"not a zip file at all"),
        ("confidence", lambda data: data[:-20]),
        ("confidence", lambda data: b'{"weights": [1.0], "unknown": 2}'),
        ("state", lambda data: b"[]"),
    ],
)
def test_spoilt_model_files_are_refitted_on_open(
    empty_kb: KnowledgeBase,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
    spoil: Callable[[bytes], bytes],
) -> None:
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    threshold = empty_kb.stats().threshold
    path = _model_file(empty_kb, name)
    path.write_bytes(spoil(path.read_bytes()))

    reopened = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)

    assert reopened.stats().threshold == pytest.approx(threshold)
    best = reopened.searcher().search("Can I pay with PayPal?").best
    assert best is not None and best.article_id == "payment"
    assert "model files unusable, refitting" in caplog.text
    again = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    assert again.stats().threshold == pytest.approx(threshold)
    assert not list(path.parent.glob(".*"))  # no temporary file left behind


def test_a_model_file_write_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "models" / "state.json"
    write_atomically(path, lambda handle: handle.write(b"old"))

    def fail(handle: IO[bytes]) -> None:
        handle.write(b"half of the n")
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomically(path, fail)
    assert path.read_bytes() == b"old"
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_model_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, lambda handle: handle.write(b"first"))
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    path.chmod(0o640)
    write_atomically(path, lambda handle: handle.write(b"second"))
    assert path.stat().st_mode & 0o777 == 0o640 and path.read_bytes() == b"second"


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


@pytest.mark.parametrize("follow", [True, False])
def test_out_of_scope_traffic_raises_the_threshold_it_answers_at(
    sample_kb: KnowledgeBase, follow: bool
) -> None:
    """Questions the knowledge base does not cover, far more of them than calibration assumed:
    the threshold in force rises to the one calibrated for the share they show, and searches
    answer at it. Switched off, nothing moves."""
    settings = sample_kb.settings.model_copy(update={"follow_traffic_share": follow})
    kb = KnowledgeBase(settings=settings, embeddings=sample_kb.store.embeddings)
    calibrated = kb.confidence.threshold
    unknown = [
        "what is the capital of France",
        "how tall is mount everest",
        "who won the world cup in 2018",
        "recommend a good podcast about history",
    ]
    confidences = [kb.search(text).confidence for text in unknown]
    assert all(c < calibrated for c in confidences)
    for step in range(kb.settings.traffic_min_questions + 25):
        assert kb.threshold_in_force() == calibrated or step >= kb.settings.traffic_min_questions
        kb.observe(confidences[step % len(confidences)])
    reading = kb.traffic_reading
    assert reading.questions == kb.settings.traffic_min_questions + 25
    assert reading.out_of_scope_share == 1.0, "read either way: /metrics shows it"
    assert reading.raised_threshold is not None and reading.raised_threshold < 1.0
    if not follow:
        assert kb.threshold_in_force() == calibrated
        return
    raised = kb.threshold_in_force()
    assert raised == reading.raised_threshold > calibrated and kb.stats().threshold == raised
    assert kb.search("how long until my refund shows up").threshold == raised
    # A pinned threshold, or one live outcomes set, is labelled evidence: it wins.
    kb.use_live_threshold(0.3)
    assert kb.threshold_in_force() == 0.3
    assert kb.search("how long until my refund shows up").threshold == 0.3
    kb.use_live_threshold(None)
    # Questions it answers come back: the threshold comes down to the calibrated one.
    answerable = kb.search("how long until my refund shows up").confidence
    assert answerable >= calibrated
    for _ in range(1000):
        kb.observe(answerable)
    assert kb.traffic_reading.raised_threshold is None
    assert kb.threshold_in_force() == calibrated


def test_the_shared_window_is_read_only_under_the_calibration_it_was_noted_under(
    sample_kb: KnowledgeBase,
) -> None:
    """Another replica's questions, read from the store: under this calibration they raise
    the threshold as this replica's own would; read before a refit that moved it, they are
    dropped (confidences of the old model do not read against the new one)."""
    settings = sample_kb.settings.model_copy(update={"follow_traffic_share": True})
    kb = KnowledgeBase(settings=settings, embeddings=sample_kb.store.embeddings)
    calibrated = kb.calibrated_threshold
    unknown = kb.search("how tall is mount everest").confidence
    window = [unknown] * (settings.traffic_min_questions + 1)
    kb.share_traffic(window, calibrated + 0.05)  # a refit moved it meanwhile
    assert len(kb.traffic) == 0 and kb.threshold_in_force() == calibrated
    kb.share_traffic(window, calibrated)
    assert len(kb.traffic) == len(window) and kb.threshold_in_force() > calibrated


def test_a_model_calibrated_before_the_share_curve_is_refitted_on_open(
    empty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    assert empty_kb.confidence.calibrated and empty_kb.confidence.share_thresholds
    path = _model_file(empty_kb, "confidence")
    saved = json.loads(path.read_text())
    del saved["share_thresholds"]  # as an earlier release wrote it
    path.write_text(json.dumps(saved))

    pinned = empty_kb.settings.model_copy(update={"answer_threshold": 0.6})
    KnowledgeBase(settings=pinned, embeddings=empty_kb.store.embeddings)
    assert _model_file(empty_kb, "confidence") == path, "a pinned threshold needs no refit"
    assert "share_thresholds" not in json.loads(path.read_text())

    reopened = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)

    assert reopened.confidence.share_thresholds == empty_kb.confidence.share_thresholds
    assert "share_thresholds" in json.loads(_model_file(empty_kb, "confidence").read_text())


def _fail(*args: object, **kwargs: object) -> NoReturn:
    raise RuntimeError("calibration failed")


def test_a_change_another_process_made_is_picked_up_once_seen_twice(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another replica ingests into the shared store and saves its models beside it: this one
    loads them (no calibration of its own) on the second check that sees the new version, and
    answers from the new articles."""
    other = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    other.ingest([_faq(tmp_path / "faq.jsonl")])
    monkeypatch.setattr("knowledge.base.calibrate", _fail)  # loading must not calibrate
    assert empty_kb.follow_store() is False, "seen once: an ingest may still be writing"
    assert empty_kb.follow_store() is True
    assert empty_kb.fingerprint == other.fingerprint
    assert empty_kb.confidence.threshold == other.confidence.threshold
    found = empty_kb.search("can I pay with PayPal")
    assert found.best is not None and found.best.article_id == "payment"
    assert empty_kb.follow_store() is False, "nothing new"


def test_a_refit_that_fails_leaves_the_old_models_serving(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change with no model files to load (a replica with its own data directory) is
    refitted here; when that fails the old models keep serving, and that version is not tried
    again every round. While this process refits, the check skips its round."""
    other = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    other.ingest([_faq(tmp_path / "faq.jsonl")])
    (empty_kb.data_dir / "models" / empty_kb.settings.collection / "state.json").unlink()
    classifier, confidence = empty_kb.classifier, empty_kb.confidence
    calls: list[int] = []

    def failing(*args: object, **kwargs: object) -> NoReturn:
        calls.append(1)
        _fail()

    monkeypatch.setattr("knowledge.base.calibrate", failing)
    assert [empty_kb.follow_store(), empty_kb.follow_store(), empty_kb.follow_store()] == [
        False,
        False,
        False,
    ]
    assert calls == [1], "tried once for that version"
    assert empty_kb.classifier is classifier and empty_kb.confidence is confidence
    monkeypatch.undo()

    holding, release = threading.Event(), threading.Event()

    def refitting() -> None:
        with empty_kb.changing():
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=refitting)
    worker.start()
    holding.wait(10)
    other.ingest([_faq(tmp_path / "faq.jsonl", answer="Use the new returns page.")])
    assert empty_kb.follow_store() is False and empty_kb.follow_store() is False
    release.set()
    worker.join()
    assert empty_kb.follow_store() is False, "seen once"
    assert empty_kb.follow_store() is True, "the next version, seen twice, is picked up"
    assert empty_kb.classifier is not classifier


def test_every_write_stamps_the_collection_and_keeps_its_metadata(
    empty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    store = empty_kb.store
    before = store.change_stamp()
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    ingested = store.change_stamp()
    assert ingested is not None and ingested != before
    store.reread_index()
    assert store.change_stamp() == ingested, "re-reading the index writes nothing"
    assert empty_kb.remove("delivery") > 0
    assert store.change_stamp() not in (None, ingested)
    assert store.shared_target() is None
    store.share_target(0.95)
    assert store.shared_target() == 0.95
    metadata = store._metadata_now()
    assert metadata["embedding_model"] == store.embeddings.name, "kept beside the stamp"


def test_an_unchanged_store_is_checked_without_reading_every_chunk_id(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads the collection's change stamp; every chunk id only after the stamp
    changed, and once in FULL_CHECK_EVERY rounds for a writer that does not stamp."""
    from knowledge.base import FULL_CHECK_EVERY

    other = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    other.ingest([_faq(tmp_path / "faq.jsonl")])
    assert [empty_kb.follow_store(), empty_kb.follow_store()] == [False, True]
    reads: list[int] = []
    fingerprint = empty_kb.store.fingerprint
    monkeypatch.setattr(empty_kb.store, "fingerprint", lambda: reads.append(1) or fingerprint())
    assert not any(empty_kb.follow_store() for _ in range(FULL_CHECK_EVERY))
    assert len(reads) == 1, "one full read in FULL_CHECK_EVERY quiet rounds"
    other.ingest([_faq(tmp_path / "faq.jsonl", answer="Use the new returns page.")])
    reads.clear()
    assert [empty_kb.follow_store(), empty_kb.follow_store()] == [False, True]
    assert len(reads) >= 2, "a new stamp: the ids are read"


def test_a_target_calibrated_elsewhere_reaches_every_process(
    empty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    """``tandem kb calibrate`` on one machine keeps the target in the collection: a replica
    with its own model files recalibrates for it at its next checks, and at its next start."""
    empty_kb._model_files = ModelFiles(tmp_path / "own-models")  # as on another machine
    other = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    other.ingest([_faq(tmp_path / "faq.jsonl")])
    assert [empty_kb.follow_store(), empty_kb.follow_store()] == [False, True]
    assert empty_kb.confidence.target_precision == 0.9
    other.calibrate(0.95)
    assert [empty_kb.follow_store(), empty_kb.follow_store()] == [False, True]
    assert empty_kb.confidence.target_precision == 0.95, "refitted here for the shared target"
    assert empty_kb.confidence.threshold == pytest.approx(other.confidence.threshold)
    assert empty_kb.fingerprint == other.fingerprint and empty_kb.fingerprint.endswith("@0.95")
    restarted = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    assert restarted.confidence.target_precision == 0.95


def test_a_searcher_built_while_the_models_changed_is_not_kept(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search builds the searcher over the models it found; a refit that lands meanwhile
    (another thread's ingest) must not be undone by keeping that searcher."""
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    build = empty_kb.searcher

    def while_a_refit_lands() -> object:
        made = build()
        empty_kb._models_changed(empty_kb.confidence.threshold)
        return made

    with monkeypatch.context() as patched:
        patched.setattr(empty_kb, "searcher", while_a_refit_lands)
        assert empty_kb.search("how do I return an item").matches, "this search is answered"
        assert empty_kb._searcher is None, "but its searcher, over the old models, is dropped"
    empty_kb.search("how do I return an item")
    assert empty_kb._searcher is not None, "a searcher over the current models is kept"


def test_a_calibration_that_fails_shares_nothing(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refit that cannot save (a full disk for the model files) keeps the collection's target,
    so that no replica refits for it, and the version this one was saved on."""
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    fitted_on = empty_kb.fingerprint
    empty_kb.search("how do I return an item")
    assert empty_kb._searcher is not None

    def full_disk(*args: object, **kwargs: object) -> NoReturn:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(empty_kb._model_files, "save", full_disk)
        with pytest.raises(OSError):
            empty_kb.calibrate(0.95)
    assert empty_kb.store.shared_target() is None, "the failed target was not shared"
    assert empty_kb.fingerprint == fitted_on and "@" not in fitted_on
    assert empty_kb._searcher is None, "the models fitted serve here, through a new searcher"
    empty_kb.calibrate(0.95)
    assert empty_kb.store.shared_target() == 0.95 and empty_kb.fingerprint.endswith("@0.95")


def test_whole_collection_reads_are_paged_and_complete(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read of the whole collection goes in pages (one read of more than about 32,000
    chunks fails on embedded Chroma): with pages of two chunks, each read finds what one read
    finds."""
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    store = empty_kb.store
    articles = store.articles()
    source = articles[0].source

    def reads() -> tuple[object, ...]:
        ids, vectors, metadatas = store.everything()
        return (
            store.articles(),
            store.passages_by_article(),
            (sorted(ids), vectors.shape, len(metadatas)),
            store.fingerprint(),
            sorted(store.source_texts(source)),
            store.source_digests(source),
        )

    whole = reads()
    assert len(store.everything()[0]) == store.count() > 4
    monkeypatch.setattr("knowledge.store.READ_PAGE", 2)
    assert reads() == whole
    payment = next(a for a in articles if a.id == "payment")
    assert empty_kb.remove("payment") == payment.questions + payment.passages


def test_a_read_spanning_another_process_delete_loses_no_other_chunk(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process deletes chunks while a whole-collection read is under way (pages of
    two): the read holds every chunk but the deleted ones. Pages by offset skipped the chunks
    that the delete shifted over a page boundary."""
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    store = empty_kb.store
    before = sorted(store.everything()[0])
    collection = store._collection
    real_get = collection.get
    reads: list[int] = []

    def get_and_delete(*args: object, **kwargs: object) -> object:
        found = real_get(*args, **kwargs)  # type: ignore[arg-type]
        reads.append(len(found["ids"]))
        if len(reads) == 2:  # after the first page: the first two chunks in store order go
            collection.delete(ids=real_get(include=[], limit=2)["ids"])
        return found

    monkeypatch.setattr("knowledge.store.READ_PAGE", 2)
    monkeypatch.setattr(collection, "get", get_and_delete)
    ids, vectors, metadatas = store.everything()
    gone = set(before) - set(real_get(include=[])["ids"])
    assert len(gone) == 2 and len(reads) > 3
    assert set(before) - gone <= set(ids), "a chunk nobody deleted was not read"
    assert set(ids) <= set(before) and len(set(ids)) == len(ids)
    assert vectors.shape[0] == len(metadatas) == len(ids)


def test_models_are_saved_as_a_set_and_old_sets_are_deleted(
    empty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each refit saves new files and then the state naming them; the set before is kept for
    a reader that read the state just before, older ones go (here at once; in service once
    ten minutes old). A state an earlier release saved (fixed file names) still loads."""
    monkeypatch.setattr("knowledge.model_files.SET_KEPT_SECONDS", 0.0)
    folder = empty_kb.data_dir / "models" / empty_kb.settings.collection
    empty_kb.ingest([_faq(tmp_path / "faq.jsonl")])
    first = _model_file(empty_kb, "classifier")
    empty_kb.refresh()
    second = _model_file(empty_kb, "classifier")
    assert second != first and first.exists()
    empty_kb.refresh()
    assert not first.exists() and second.exists()
    assert (
        len(list(folder.glob("classifier*.npz"))) == len(list(folder.glob("confidence*.json"))) == 2
    )

    state = json.loads((folder / "state.json").read_text())
    _model_file(empty_kb, "classifier").rename(folder / "classifier.npz")
    _model_file(empty_kb, "confidence").rename(folder / "confidence.json")
    del state["files"]
    (folder / "state.json").write_text(json.dumps(state))
    reopened = KnowledgeBase(settings=empty_kb.settings, embeddings=empty_kb.store.embeddings)
    assert reopened.fingerprint == empty_kb.fingerprint
    assert reopened.confidence.threshold == empty_kb.confidence.threshold
    assert "files" not in json.loads((folder / "state.json").read_text()), "loaded, not refitted"


def test_a_set_saved_beside_this_one_is_kept_and_old_fixed_names_go(tmp_path: Path) -> None:
    """Two replicas on one data directory save at once: neither deletes the set the other has
    just written. An earlier release's fixed names go at the first save (rolled back to, it
    would load them as current)."""
    from knowledge.calibration import ConfidenceModel
    from knowledge.classifier import ArticleClassifier

    classifier = ArticleClassifier(np.array(["a"], dtype=str), np.zeros((1, 2)), np.zeros(1))
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "classifier.npz").write_bytes(b"old")
    (folder / "confidence.json").write_text("{}")
    (folder / "state.json").write_text(json.dumps({"fingerprint": "v1"}))
    first, second = ModelFiles(folder), ModelFiles(folder)
    first.save(classifier, ConfidenceModel(), fingerprint="v2")
    named_by_first = first.state()["files"]
    second.save(classifier, ConfidenceModel(), fingerprint="v2")
    names = {p.name for p in folder.iterdir()}
    assert not {"classifier.npz", "confidence.json"} & names
    assert set(named_by_first.values()) <= names, "the other replica's fresh set is kept"
    assert set(second.state()["files"].values()) <= names


def test_a_file_chunked_otherwise_is_not_mixed_into_its_stored_chunks(
    empty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    """The same file read with other chunk settings gives the same ids to other texts:
    nothing is restored into it (it stays as stored until the file changes)."""
    from knowledge.loaders import load

    doc = tmp_path / "guide.md"
    doc.write_text("# Guide\n\n" + "\n\n".join(f"Paragraph {i}. " + "word " * 80 for i in range(8)))
    store = empty_kb.store
    assert (
        store.upsert_source(load(doc, max_bytes=10**6, chunk_size=2000, chunk_overlap=100))
        == "added"
    )
    before = sorted(store.everything()[0])
    again = load(doc, max_bytes=10**6, chunk_size=600, chunk_overlap=100)
    assert store.upsert_source(again) == "unchanged"
    assert sorted(store.everything()[0]) == before

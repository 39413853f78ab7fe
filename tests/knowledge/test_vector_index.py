from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from config import KnowledgeSettings
from knowledge.base import KnowledgeBase
from knowledge.embeddings.base import normalise
from knowledge.vector_index import ExactIndex, LazyExactIndex
from tests.knowledge.questions import ROUTINE

QUESTIONS = [
    *ROUTINE,
    "I want to speak to a lawyer about my contract",
    "What is the meaning of life?",
]


def test_exact_search_is_exact_and_agrees_with_chroma(sample_kb: KnowledgeBase) -> None:
    store = sample_kb.store
    k = 20
    ids, vectors, _ = store.everything()
    for question in QUESTIONS:
        vector = store.embeddings.embed([question])[0]
        exact = store.query(vector, k)
        chroma = store.chroma_query(vector, k)
        assert len(exact) == len(chroma) == min(k, store.count())
        # Exact search is a brute-force ranking over every stored vector.
        brute = np.sort(vectors @ normalise(vector[None, :])[0])[::-1][:k]
        np.testing.assert_allclose([h.similarity for h in exact], brute, atol=1e-5)
        # Chroma's HNSW is approximate: on a question far from everything (the
        # meaning of life) it can miss one of twenty near-equal tail hits. Exact
        # search is never worse at any rank, and the head of the ranking agrees.
        assert all(e.similarity >= c.similarity - 1e-5 for e, c in zip(exact, chroma, strict=True))
        assert [h.chunk_id for h in exact][:5] == [h.chunk_id for h in chroma][:5]
        shared = {h.chunk_id for h in exact} & {h.chunk_id for h in chroma}
        assert len(shared) >= k - 2
        by_id = {h.chunk_id: h for h in chroma}
        for hit in (h for h in exact if h.chunk_id in shared):
            other = by_id[hit.chunk_id]
            assert hit.similarity == pytest.approx(other.similarity, abs=1e-5)
            assert (hit.article_id, hit.kind, hit.text, hit.title, hit.source, hit.url) == (
                other.article_id,
                other.kind,
                other.text,
                other.title,
                other.source,
                other.url,
            )
    assert len(ids) == store.count()


def test_the_index_follows_ingest_and_removal(empty_kb: KnowledgeBase, tmp_path: Path) -> None:
    faq = tmp_path / "faq.jsonl"
    rows = [
        {"id": "returns", "question": "How do I return an item?", "answer": "Use the form."},
        {"id": "payment", "question": "Which cards do you accept?", "answer": "Visa."},
    ]
    faq.write_text("\n".join(json.dumps(r) for r in rows))
    empty_kb.ingest([faq])
    vector = empty_kb.store.embeddings.embed(["Can I pay by card?"])[0]
    assert empty_kb.store.query(vector, 1)[0].article_id == "payment"
    empty_kb.remove("payment")
    assert {h.article_id for h in empty_kb.store.query(vector, 10)} == {"returns"}
    rows.append({"id": "cards", "question": "Can I pay by card?", "answer": "Yes."})
    faq.write_text("\n".join(json.dumps(r) for r in rows))
    empty_kb.ingest([faq])
    assert empty_kb.store.query(vector, 1)[0].article_id == "cards"
    assert empty_kb.search("Can I pay by card?").matches[0].article_id == "cards"


def test_above_the_cut_off_chroma_answers(sample_kb: KnowledgeBase, tmp_path: Path) -> None:
    settings = KnowledgeSettings(data_dir=sample_kb.data_dir, exact_search_max_chunks=5)
    small_cut = KnowledgeBase(settings=settings, embeddings=sample_kb.store.embeddings)
    assert small_cut.store._exact.get() is None
    vector = small_cut.store.embeddings.embed(["How do I return an item?"])[0]
    assert small_cut.store.query(vector, 3) == small_cut.store.chroma_query(vector, 3)


def test_exact_index_orders_best_first_and_handles_small_k() -> None:
    rng = np.random.default_rng(1)
    vectors = normalise(rng.normal(size=(50, 8)))
    index = ExactIndex(vectors, list(range(50)))
    query = vectors[7]
    found = index.nearest(query, 5)
    assert found[0][0] == 7 and found[0][1] == pytest.approx(1.0, abs=1e-6)
    expected = np.argsort(-(vectors @ query), kind="stable")[:5]
    assert [item for item, _ in found] == list(expected)
    assert len(index.nearest(query, 500)) == 50
    assert ExactIndex(np.zeros((0, 8), dtype=np.float32), []).nearest(query, 3) == []


def test_a_read_during_a_change_is_not_kept() -> None:
    store = {"n": 1}
    lazy: LazyExactIndex[int]

    def load() -> tuple[np.ndarray, list[int]]:
        n = store["n"]
        if n == 1:  # a write lands while the index is read
            store["n"] = 2
            lazy.invalidate()
        return np.ones((n, 2), dtype=np.float32), list(range(n))

    lazy = LazyExactIndex(10, lambda: store["n"], load)
    first = lazy.get()
    assert first is not None and len(first) == 1
    second = lazy.get()
    assert second is not None and len(second) == 2
    assert lazy.get() is second

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from config import EmbeddingsSettings
from knowledge.embeddings import build_embedding_model
from knowledge.embeddings.base import Vectors
from knowledge.embeddings.batching import BatchingEmbeddings
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from tests.knowledge.questions import ROUTINE

QUESTIONS = [
    *ROUTINE,
    "My parcel arrived damaged and I want my money back, what do I do now?",
    "",
]


def concurrently(model: BatchingEmbeddings, texts: Sequence[str]) -> list[Vectors]:
    """Every text embedded by its own thread, all released at once."""
    results: list[Vectors | None] = [None] * len(texts)
    start = threading.Barrier(len(texts))

    def one(index: int) -> None:
        start.wait()
        results[index] = model.embed([texts[index]])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_batched_vectors_match_one_at_a_time(embeddings: MiniLMOnnxEmbeddings) -> None:
    batching = BatchingEmbeddings(embeddings, max_batch=4, max_wait_ms=5)
    texts = QUESTIONS * 3
    got = concurrently(batching, texts)
    alone = [embeddings.embed([text]) for text in texts]
    for vectors, expected in zip(got, alone, strict=True):
        assert vectors.shape == expected.shape == (1, 384)
        # The int8 model quantises activations per batch: equal to about 1e-2, same direction.
        assert float(vectors[0] @ expected[0]) > 0.999
    assert batching.texts == len(texts)
    assert batching.batches < len(texts)  # some calls shared a forward pass


def test_idle_calls_run_at_once_and_large_calls_go_straight_through(
    embeddings: MiniLMOnnxEmbeddings,
) -> None:
    batching = BatchingEmbeddings(embeddings, max_batch=4, max_wait_ms=1000)
    single = batching.embed(["How do I return an item?"])  # idle: no wait for a batch
    many = batching.embed(QUESTIONS)
    assert batching.batches == 1
    np.testing.assert_array_equal(single, embeddings.embed(["How do I return an item?"]))
    np.testing.assert_array_equal(many, embeddings.embed(QUESTIONS))
    assert batching.embed([]).shape[0] == 0


class Failing:
    name = "failing"

    def embed(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("model down")


def test_a_failure_reaches_every_caller_and_the_batcher_recovers() -> None:
    batching = BatchingEmbeddings(Failing(), max_batch=8)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            batching.embed(["x"])
        except RuntimeError as error:
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(errors) == 6
    with pytest.raises(RuntimeError):
        batching.embed(["again"])


def test_the_settings_build_a_batching_model() -> None:
    model = build_embedding_model(EmbeddingsSettings(batch_size=16, batch_wait_ms=0))
    assert isinstance(model, BatchingEmbeddings)
    assert model.name == MiniLMOnnxEmbeddings().name

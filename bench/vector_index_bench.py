"""Exact in-memory search against Chroma's query, by knowledge base size.

Usage: python bench/vector_index_bench.py [--sizes 1000 10000 50000] [--queries 200]

Random unit vectors of the model's dimension in an embedded Chroma collection (no embedding:
the query's cost is what is measured). Prints, per size, the median and p95 milliseconds of
``KnowledgeStore.chroma_query`` and of the exact in-memory query (top 20, metadata included),
the index's memory, and how often the two agree on the top hit. It also times what a serving
replica's knowledge-change check reads each round: the collection's change stamp, against every
chunk id (what each round read before the stamp, and what it still reads after a change).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from knowledge.embeddings.base import Vectors, normalise
from knowledge.store import KnowledgeStore


class Unused:
    name = "bench-random-384"

    def embed(self, texts: object) -> Vectors:
        raise AssertionError("the bench passes its own vectors")


def bench(size: int, queries: int, rng: np.random.Generator) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="tandem-index-"))
    try:
        store = KnowledgeStore(
            embeddings=Unused(), collection="bench", path=root, exact_search_max_chunks=10**9
        )
        vectors = normalise(rng.normal(size=(size, 384)))
        collection = store._collection
        step = 5000
        for start in range(0, size, step):
            part = range(start, min(size, start + step))
            collection.add(
                ids=[f"c{i}" for i in part],
                embeddings=vectors[start : start + step],
                documents=[f"text {i}" for i in part],
                metadatas=[
                    {"article_id": f"a{i // 5}", "kind": "question", "title": "t", "source": "s"}
                    for i in part
                ],
            )
        store._changed()
        # Queries near stored vectors, as real questions are near their articles' chunks.
        picks = rng.integers(0, size, queries)
        asks = normalise(vectors[picks] + rng.normal(scale=0.05, size=(queries, 384)))
        started = time.perf_counter()
        store.query(asks[0], 20)  # reads the index
        read_s = time.perf_counter() - started
        timings: dict[str, list[float]] = {"chroma": [], "exact": []}
        agree = 0
        for ask in asks:
            started = time.perf_counter()
            approximate = store.chroma_query(ask, 20)
            timings["chroma"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            exact = store.query(ask, 20)
            timings["exact"].append((time.perf_counter() - started) * 1000)
            agree += approximate[0].chunk_id == exact[0].chunk_id
        for _ in range(20):
            started = time.perf_counter()
            store.change_stamp()
            timings.setdefault("stamp", []).append((time.perf_counter() - started) * 1000)
        for _ in range(5):
            started = time.perf_counter()
            store.fingerprint()
            timings.setdefault("all_ids", []).append((time.perf_counter() - started) * 1000)
        index = store._exact.get()
        figures = {"chunks": size, "index_read_s": round(read_s, 2)}
        for name, values in timings.items():
            figures[f"{name}_ms_p50"] = round(float(np.percentile(values, 50)), 3)
            figures[f"{name}_ms_p95"] = round(float(np.percentile(values, 95)), 3)
        figures["index_mb"] = round((index.nbytes if index else 0) / 1e6, 1)
        figures["top1_agreement"] = round(agree / queries, 3)
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(13)
    for size in args.sizes:
        print(json.dumps(bench(size, args.queries, rng)), flush=True)


if __name__ == "__main__":
    main()

"""Knowledge-base benchmarks: ingestion throughput, query latency, CLI cold start.

Usage: python bench/knowledge_bench.py [--sizes 1000 10000] [--queries 300]

Texts are CLINC150 utterances from ../shared/data (one FAQ article per intent). Prints:
- raw embedding throughput and ingestion throughput on the same texts, and their ratio;
- the full ingest including the classifier fit and calibration;
- query latency (embed + Chroma + classifier + scoring) p50/p95/p99;
- cold start of ``tandem kb search`` (a new process each time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from config import KnowledgeSettings
from knowledge.base import KnowledgeBase
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from knowledge.loaders import load

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150_dev.json"


def write_faq(path: Path, size: int) -> list[str]:
    data = json.loads(DATA.read_text())
    rows = data["train"][:size]
    with path.open("w") as handle:
        for text, intent in rows:
            handle.write(json.dumps({"id": intent, "question": text, "answer": f"About {intent}."}))
            handle.write("\n")
    return [text for text, _ in data["val"]]


def bench_size(size: int, queries: int, model: MiniLMOnnxEmbeddings) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    try:
        faq = root / "faq.jsonl"
        questions = write_faq(faq, size)
        document = load(faq, max_bytes=10**9, chunk_size=1200, chunk_overlap=150)
        texts = [q for a in document.articles for q in (*a.questions, *a.passages)]
        start = time.perf_counter()
        for offset in range(0, len(texts), 256):
            model.embed(texts[offset : offset + 256])
        raw = len(texts) / (time.perf_counter() - start)

        kb = KnowledgeBase(settings=KnowledgeSettings(data_dir=root / "data"), embeddings=model)
        start = time.perf_counter()
        kb.store.upsert_source(document)
        store_rate = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        kb.refresh()
        refresh_s = time.perf_counter() - start

        searcher = kb.searcher()
        for question in questions[:20]:
            searcher.search(question)
        latencies = []
        for question in questions[:queries]:
            start = time.perf_counter()
            searcher.search(question)
            latencies.append((time.perf_counter() - start) * 1000)
        cold = cold_start(root)
        return {
            "chunks": len(texts),
            "embed_per_s": round(raw, 1),
            "ingest_per_s": round(store_rate, 1),
            "ingest_ratio": round(store_rate / raw, 3),
            "fit_and_calibrate_s": round(refresh_s, 2),
            "query_ms_p50": round(float(np.percentile(latencies, 50)), 2),
            "query_ms_p95": round(float(np.percentile(latencies, 95)), 2),
            "query_ms_p99": round(float(np.percentile(latencies, 99)), 2),
            "cold_start_search_s": cold,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cold_start(root: Path, runs: int = 5) -> float:
    tandem = shutil.which("tandem") or str(Path(sys.executable).parent / "tandem")
    env = {"TANDEM_KNOWLEDGE__DATA_DIR": str(root / "data"), "PATH": "/usr/bin:/bin"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [tandem, "kb", "search", "set a timer for ten minutes"],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    model = MiniLMOnnxEmbeddings()
    for size in args.sizes:
        print(json.dumps({"size": size, **bench_size(size, args.queries, model)}))


if __name__ == "__main__":
    main()

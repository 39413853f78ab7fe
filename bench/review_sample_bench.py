"""What drawing answers for review costs on a large answers table.

Usage: python bench/review_sample_bench.py [--rows N ...] [--sqlite]

Reviews must be a fair sample of the answers customers got. ``review_sample`` draws random ids
from the window's id range and keeps the eligible answers; a window under
``SAMPLE_WHOLE_BELOW`` ids is drawn from whole with ``ORDER BY random()``, which sorts every
unreviewed answer of the last two weeks. This fills a fresh Postgres database on
127.0.0.1:5432 (``--sqlite``: a temporary SQLite file) with N answers spread over those two
weeks and prints the median time of drawing 10, over 7 draws, both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import fresh_database  # noqa: E402

from integrations.storage import answers as answer_store  # noqa: E402
from integrations.storage.sql_store import SqlStore, open_store  # noqa: E402
from integrations.storage.tables import answers  # noqa: E402

BATCH = 10_000
DRAWS = 7


async def _fill(url: str, rows: int) -> tuple[float, float]:
    store = await open_store(url)
    now = datetime.now(UTC)
    try:
        for start in range(0, rows, BATCH):  # oldest first, as ids are given
            values = [
                {
                    "conversation_id": f"c{i}",
                    "article_id": f"a{i % 40}",
                    "confidence": (i % 997) / 997,
                    "at": now - timedelta(seconds=1_209_600 - (i * 1_209_600) // rows),
                    "question": f"question {i}",
                }
                for i in range(start, min(rows, start + BATCH))
            ]
            async with store.transaction() as connection:
                await connection.execute(insert(answers), values)
        since = now - timedelta(days=14, seconds=1)
        by_id = await _median_ms(store, since, by_id=True)
        return by_id, await _median_ms(store, since, by_id=False)
    finally:
        await store.close()


async def _median_ms(store: SqlStore, since: datetime, *, by_id: bool) -> float:
    whole_below = answer_store.SAMPLE_WHOLE_BELOW
    answer_store.SAMPLE_WHOLE_BELOW = whole_below if by_id else 1 << 62
    try:
        times = []
        for _ in range(DRAWS):
            began = time.perf_counter()
            drawn = await store.review_sample(10, since)
            times.append(time.perf_counter() - began)
            assert len(drawn) == 10
        return statistics.median(times) * 1000
    finally:
        answer_store.SAMPLE_WHOLE_BELOW = whole_below


def _postgres(rows: int) -> tuple[float, float]:
    with fresh_database("tandem_review_bench") as url:
        return asyncio.run(_fill(url, rows))


def _sqlite(rows: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as temp:
        return asyncio.run(_fill(f"sqlite+aiosqlite:///{Path(temp) / 'bench.db'}", rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000, 500_000])
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    print("| answers in two weeks | database | draw of 10, median ms: random ids | whole window |")
    print("|---|---|---|---|")
    for rows in args.rows:
        run = _sqlite if args.sqlite else _postgres
        by_id, whole = run(rows)
        database = "SQLite" if args.sqlite else "Postgres"
        print(f"| {rows:,} | {database} | {by_id:.1f} | {whole:.1f} |")


if __name__ == "__main__":
    main()

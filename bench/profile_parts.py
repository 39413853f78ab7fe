"""Split a py-spy profile of the server into Tandem's parts.

Usage: python bench/profile_parts.py PROFILE.txt

``PROFILE.txt`` is ``py-spy record --format raw`` output (``bench/load.py --profile``): one
collapsed stack per line with its sample count. Each sample goes to the part of the innermost
frame that belongs to one (JSON inside the bus counts as serialisation, SQL inside the engine
as SQL); what matches none is "other Python" (the event loop, aiohttp's HTTP, the engine's own
logic). Samples are of Python threads that were not idle: ONNX Runtime's own worker threads do
not show here, so the embedding's share is a floor (see the server CPU per message).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

# The first part whose pattern matches a frame's file name, innermost frame first.
PARTS: list[tuple[str, re.Pattern[str]]] = [
    ("logging", re.compile(r"/logging/|structlog|integrations/logs")),
    ("serialisation", re.compile(r"/json/|orjson|pydantic|dataclasses\.py")),
    ("embedding", re.compile(r"onnxruntime|tokenizers|embeddings/|knowledge/embeddings")),
    ("chroma", re.compile(r"chromadb|knowledge/store\.py|vector_index")),
    ("classifier", re.compile(r"knowledge/(classifier|calibration|scoring|lexical)\.py")),
    ("SQL", re.compile(r"sqlalchemy|aiosqlite|sqlite3|asyncpg|integrations/storage")),
    ("WebSockets", re.compile(r"web_ws|_websocket|http_websocket|integrations/web/customer")),
    ("bus", re.compile(r"bot/bus\.py|integrations/bus")),
    ("signals and policy", re.compile(r"bot/(signals|policy|drafting)\.py")),
    ("HTTP (aiohttp)", re.compile(r"aiohttp/")),
    ("event loop", re.compile(r"asyncio/|uvloop|selectors\.py")),
]
# Innermost frames that wait rather than work (a worker thread blocked on its queue, the loop
# in epoll, a bare thread line): counted apart, not in the split.
IDLE = re.compile(
    r"^(_connection_worker_thread \(aiosqlite/core\.py:(59|63)\)|_worker \(concurrent/futures/"
    r"thread\.py:\d+\)|EpollSelector\.select .*|thread \(\d+\).*|Thread\.run .*)$"
)
FRAME = re.compile(r"\(([^():]+)(?::\d+)?\)$")


def part_of(stack: str) -> str:
    frames = stack.split(";")
    if IDLE.match(frames[-1].strip()):
        return "waiting"
    for frame in reversed(frames):
        found = FRAME.search(frame.strip())
        if not found:
            continue
        for name, pattern in PARTS:
            if pattern.search(found.group(1)):
                return name
    return "other Python"


def split(path: Path) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[part_of(stack)] += int(count)
    waiting = counts.pop("waiting", 0)
    total = sum(counts.values()) or 1
    split = {name: round(100 * n / total, 1) for name, n in counts.most_common()}
    return {**split, "(samples working)": total, "(samples waiting, not counted)": waiting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    args = parser.parse_args()
    print(json.dumps({"percent_of_working_samples": split(args.profile)}, indent=2))


if __name__ == "__main__":
    main()

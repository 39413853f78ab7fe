"""How the escalation signals read single customer messages written for the check.

Usage: python bench/signal_check.py [FILE] [--misses] [--heads NPZ]

FILE (default ``bench/signal_messages.jsonl``) holds ``{"text", "signal"}`` lines, where signal
is ``human_request``, ``complaint``, a sensitive topic (``legal``, ``fraud``, ``safety``,
``personal_data``, ``cancellation``) or ``none`` (a calm routine message that should fire
nothing). Each message is read as the live service reads a first message: the shipped heads
over the query embedding, the patterns and the default settings. Prints, for each signal, how
many of its messages it fired on (recall), how many other messages it fired on (false alarms),
the share of its messages that any signal hands to a person, and how many calm messages fired
anything, frustration included.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from heads_reader import temporary_reader  # noqa: E402

from bot.model import Signals  # noqa: E402
from bot.policy import conversation_signals  # noqa: E402
from config.settings import Settings  # noqa: E402
from integrations.composition import policy_config  # noqa: E402
from knowledge.heads.model import SignalHeads  # noqa: E402
from knowledge.heads.reader import HeadReader  # noqa: E402

DEFAULT_FILE = Path(__file__).resolve().parent / "signal_messages.jsonl"


def fired(signals: Signals, frustration_threshold: float) -> set[str]:
    """The signal names that send a message to a person."""
    names = set(signals.sensitive_topics)
    if signals.human_request:
        names.add("human_request")
    if signals.complaint:
        names.add("complaint")
    if signals.frustration >= frustration_threshold:
        names.add("frustration")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--misses", action="store_true", help="List every message read wrong.")
    parser.add_argument("--heads", type=Path, help="Read with these heads, not the shipped ones.")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    settings = Settings()
    with temporary_reader(settings, "signals") as (knowledge_base, reader):
        if args.heads:
            escalation = settings.escalation
            reader = HeadReader(
                embed=knowledge_base.query_embeddings.embed,
                heads=SignalHeads.load(args.heads),
                topic_examples=escalation.topic_examples,
                example_similarity=escalation.topic_example_similarity,
            )
        config = policy_config(settings, reader)
        readings = reader.read([row["text"] for row in rows])
        threshold = settings.escalation.frustration_threshold
        read = [
            fired(conversation_signals(row["text"], [], config, [reading]), threshold)
            for row, reading in zip(rows, readings, strict=True)
        ]
    labels = sorted({row["signal"] for row in rows} - {"none"})
    print(
        f"{'signal':<15}{'messages':>9}{'fired':>7}{'recall':>8}{'false alarms':>14}"
        f"{'to a person':>13}"
    )
    for name in labels:
        own = [names for row, names in zip(rows, read, strict=True) if row["signal"] == name]
        hits = sum(name in names for names in own)
        others = sum(
            name in names for row, names in zip(rows, read, strict=True) if row["signal"] != name
        )
        sent = sum(bool(names) for names in own)  # any signal hands the message to a person
        print(
            f"{name:<15}{len(own):>9}{hits:>7}{hits / len(own):>8.2f}{others:>14}"
            f"{sent / len(own):>13.2f}"
        )
    calm = [names for row, names in zip(rows, read, strict=True) if row["signal"] == "none"]
    what = Counter(name for names in calm for name in names)
    print(
        f"calm messages that fired anything: {sum(bool(n) for n in calm)} of {len(calm)}"
        + (f" ({', '.join(f'{k} {v}' for k, v in what.most_common())})" if what else "")
    )
    if args.misses:
        for row, names in zip(rows, read, strict=True):
            expected = set() if row["signal"] == "none" else {row["signal"]}
            if expected - names or (names - expected - {"frustration"} and not expected):
                print(f"- {row['signal']}: fired {sorted(names) or 'nothing'}: {row['text']}")


if __name__ == "__main__":
    main()

"""What the heads' reading of a conversation costs, with and without calm or solving words.

Usage: python bench/reading_cost.py [--repeat N]

A message with calm words ("fair enough", "not annoyed at all") is embedded once more without
them, so that the frustration head reads the rest (``bot.calm_words.calm_rest``); so is one
that closes on words that say the problem is solved ("… all good": ``solved_rest``). This
prints the best-of-N time of ``HeadReader.read`` on a two-turn conversation, each run with new
texts (the embedding cache never answers), with each kind in the latest turn and without.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for name in [n for n in os.environ if n.startswith("TANDEM_")]:
    del os.environ[name]

from heads_reader import temporary_reader  # noqa: E402

from config import load_settings  # noqa: E402

CONVERSATIONS = {
    "calm words in the latest turn": (
        "my class was cancelled again",
        "ah that's a pity but fair enough, I'll book the later one",
    ),
    "a solved problem closing it": (
        "the engineer was due at 8, where is he",
        # The run's number inside the rest, so that the rest is new each run too.
        "his van broke down on the motorway ({run}). he's here now, all good",
    ),
    "no calm words": (
        "my class was cancelled again",
        "ah that's a pity, can I book the later one instead",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="Runs of 20 reads; the best is kept.")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    settings = load_settings(env_file=None)
    with temporary_reader(settings, "reading") as (_, reader):
        if not reader.has_heads:
            raise SystemExit("the signal heads did not load")
        counter = iter(range(10**9))
        for label, turns in CONVERSATIONS.items():

            def read(turns: tuple[str, ...] = turns) -> None:
                run = next(counter)
                reader.read(
                    [
                        turn.format(run=run) if "{run}" in turn else f"{turn} ({run})"
                        for turn in turns
                    ]
                )

            best = min(timeit.repeat(read, number=20, repeat=args.repeat)) / 20
            print(f"{label:<32} {best * 1000:6.1f} ms a two-turn read")


if __name__ == "__main__":
    main()

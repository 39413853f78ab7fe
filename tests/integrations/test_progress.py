"""The ingestion bars end where the work ended, also for a file that needed no embedding."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from integrations.cli.progress import IngestBars


def test_an_unchanged_file_leaves_its_bar_full_and_named() -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    with IngestBars(console) as bars:
        bars.files(2)
        bars.file_started(Path("faq.csv"), 13)
        bars.embedded(13)
        bars.file_done(Path("faq.csv"), "added")
        bars.file_started(Path("returns.md"), 13)  # re-ingested, nothing to embed
        bars.file_done(Path("returns.md"), "unchanged")
        files, chunks = bars._progress.tasks
    assert (files.completed, files.total) == (2, 2)
    assert (chunks.completed, chunks.total) == (13, 13)
    assert chunks.description == "unchanged returns.md"

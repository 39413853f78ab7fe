"""Rich progress bars for long CLI work."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from knowledge.ingest import IngestProgress


def bar(console: Console, *, enabled: bool = True) -> Progress:
    """A progress display on stderr (hidden when ``enabled`` is false)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


class IngestBars(IngestProgress):
    """One bar for files and one for the chunks of the current file."""

    def __init__(self, console: Console) -> None:
        self._progress = bar(console)
        self._files = self._progress.add_task("files", total=None)
        self._chunks = self._progress.add_task("embedding", total=None, visible=False)

    def __enter__(self) -> IngestBars:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def files(self, total: int) -> None:
        self._progress.update(self._files, total=total)

    def file_started(self, path: Path, chunks: int) -> None:
        self._progress.reset(
            self._chunks, total=chunks, visible=True, description=f"embedding {path.name}"
        )

    def embedded(self, count: int) -> None:
        self._progress.advance(self._chunks, count)

    def file_done(self, path: Path, outcome: str) -> None:
        # An unchanged file embeds nothing (a restore only part): its bar ends full, saying so.
        task = next(t for t in self._progress.tasks if t.id == self._chunks)
        self._progress.update(
            self._chunks, completed=task.total or 0, description=f"{outcome} {path.name}"
        )
        self._progress.advance(self._files)

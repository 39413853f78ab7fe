"""Ingest files and folders into the store, with a per-file outcome for the summary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.documents import chunks_of
from knowledge.embeddings.base import EmbeddingError
from knowledge.errors import SourceError
from knowledge.learned import LEARNED_SOURCE
from knowledge.store import KnowledgeStore


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    # (article id, file, other sources): an id two sources share joins them into one article.
    shared_ids: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


class IngestProgress:
    """Progress hooks; the CLI shows them as bars, tests and the server ignore them."""

    def files(self, total: int) -> None:
        """The number of files to ingest is known."""

    def file_started(self, path: Path, chunks: int) -> None:
        """A file was parsed into ``chunks`` chunks."""

    def embedded(self, count: int) -> None:
        """``count`` more chunks were embedded."""

    def file_done(self, path: Path, outcome: str) -> None:
        """A file is finished: added, updated, unchanged or failed."""


def ingest_paths(
    store: KnowledgeStore,
    paths: Iterable[Path],
    *,
    max_bytes: int,
    chunk_size: int = 1200,
    chunk_overlap: int = 150,
    progress: IngestProgress | None = None,
) -> IngestReport:
    """Ingest every supported file under ``paths``; a bad file is reported, not fatal.

    Args:
        store: Where chunks go.
        paths: Files and folders.
        max_bytes: Larger files are refused.
        chunk_size: Characters per passage.
        chunk_overlap: Overlap between pieces of one long section.
        progress: Optional progress hooks.
    """
    hooks = progress or IngestProgress()
    report = IngestReport()
    # Loaders pull in BeautifulSoup and langchain's splitters: only ingestion pays for them.
    from knowledge.loaders import discover, load

    files = list(discover(paths))
    hooks.files(len(files))
    for path in files:
        outcome = "failed"
        try:
            document = load(
                path, max_bytes=max_bytes, chunk_size=chunk_size, chunk_overlap=chunk_overlap
            )
            hooks.file_started(path, len(chunks_of(document)))
            written = 0

            def embedded(count: int) -> None:
                nonlocal written
                written += count
                hooks.embedded(count)

            outcome = store.upsert_source(document, progress=embedded)
            getattr(report, outcome).append(str(path))
            for article_id, others in sorted(store.other_sources(document).items()):
                # Learned question variants join their article on purpose.
                others = {o for o in others if not o.startswith(LEARNED_SOURCE)}
                if others:
                    report.shared_ids.append((article_id, str(path), tuple(sorted(others))))
            report.chunks += written  # embedded and written (a restore writes only its part)
        except SourceError as error:
            report.failed.append((str(path), error.reason))
        except EmbeddingError as error:
            report.failed.append((str(path), f"embedding failed ({error})"))
        hooks.file_done(path, outcome)
    return report

"""What the knowledge base stores: articles made of question variants and passages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

ChunkKind = Literal["question", "passage"]


def content_hash(text: str) -> str:
    """A short, stable hash of ``text`` (SHA-256, 16 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    """One knowledge article.

    Attributes:
        id: The article id, unique in the knowledge base.
        title: A human title.
        questions: Phrasings of the question the article answers.
        passages: The answer text, split into chunks.
        url: A public link to cite, if any.
        tags: Free labels used for routing and filtering.
    """

    id: str
    title: str
    questions: tuple[str, ...] = ()
    passages: tuple[str, ...] = ()
    url: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceDocument:
    """Everything read from one source (a file), replaced as a whole on re-ingest."""

    source: str
    articles: tuple[Article, ...]
    digest: str = field(default="")


@dataclass(frozen=True)
class Chunk:
    """One embedded unit, with the metadata needed to cite it."""

    id: str
    article_id: str
    kind: ChunkKind
    text: str
    title: str
    source: str
    source_digest: str
    url: str | None
    tags: tuple[str, ...]
    hash: str


def chunks_of(document: SourceDocument) -> list[Chunk]:
    """Turn a source document into chunks with stable ids."""
    chunks: list[Chunk] = []
    for article in document.articles:
        units: list[tuple[ChunkKind, str]] = [("question", q) for q in article.questions]
        units += [("passage", p) for p in article.passages]
        seen: set[tuple[ChunkKind, str]] = set()
        for index, (kind, text) in enumerate(units):
            if (kind, text) in seen:
                # A text said twice in one article is one chunk: a degenerate document (the
                # same line pasted a thousand times) would otherwise outweigh every other
                # article in calibration. Later chunks keep their index, so their ids.
                continue
            seen.add((kind, text))
            # The digest is part of the id, so a new version can be written beside the old one.
            key = f"{document.source}\0{document.digest}\0{article.id}\0{kind}\0{index}"
            chunks.append(
                Chunk(
                    id=content_hash(key),
                    article_id=article.id,
                    kind=kind,
                    text=text,
                    title=article.title,
                    source=document.source,
                    source_digest=document.digest,
                    url=article.url,
                    tags=article.tags,
                    hash=content_hash(text),
                )
            )
    return chunks

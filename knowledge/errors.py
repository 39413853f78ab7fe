"""Knowledge-base errors.

KnowledgeError
├── SourceError          a file could not be read or parsed (names the file and why)
└── EmbeddingMismatch    a collection built with one embedding model met another
"""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base class for knowledge-base errors."""


class SourceError(KnowledgeError):
    """A source file could not be ingested."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class EmbeddingMismatch(KnowledgeError):
    """Vectors from a different model than the collection was built with."""

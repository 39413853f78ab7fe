"""The ports through which the core reaches the outside world."""

from __future__ import annotations

from typing import Protocol

from bot.model import Retrieval


class Retriever(Protocol):
    """Searches the knowledge base. Implemented in ``knowledge.search``."""

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        """Find the articles that answer ``text``, with a calibrated confidence."""
        ...

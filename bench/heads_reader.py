"""The product's signal reader over a throwaway knowledge base, for the bench scripts that read
messages the way the service does (``frustration_model.py``, ``signal_check.py``,
``reading_cost.py``)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config import Settings
from integrations.composition import build_reader, open_knowledge_base
from knowledge.base import KnowledgeBase
from knowledge.heads.reader import HeadReader


@contextmanager
def temporary_reader(settings: Settings, name: str) -> Iterator[tuple[KnowledgeBase, HeadReader]]:
    """An empty embedded knowledge base in a temporary directory and its signal reader: the
    settings' embedding model and heads, never the user's data or a Chroma server."""
    with tempfile.TemporaryDirectory(prefix=f"tandem-{name}-") as temp:
        knowledge = settings.knowledge.model_copy(
            update={"data_dir": Path(temp), "chroma_url": None, "collection": f"tandem_{name}"}
        )
        knowledge_base = open_knowledge_base(settings, knowledge=knowledge)
        yield knowledge_base, build_reader(settings, knowledge_base)

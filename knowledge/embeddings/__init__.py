"""Embedding models: the offline MiniLM default and swappable providers."""

from __future__ import annotations

from knowledge.embeddings.base import EmbeddingError, EmbeddingModel
from knowledge.embeddings.factory import build_embedding_model

__all__ = ["EmbeddingError", "EmbeddingModel", "build_embedding_model"]

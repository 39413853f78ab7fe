"""Pick the embedding model named by the settings."""

from __future__ import annotations

from config import EmbeddingsSettings
from knowledge.embeddings.base import EmbeddingError, EmbeddingModel
from knowledge.embeddings.batching import BatchingEmbeddings


def build_embedding_model(settings: EmbeddingsSettings) -> EmbeddingModel:
    """Build the configured embedding model, micro-batching concurrent calls.

    Raises:
        EmbeddingError: when a provider lacks a setting it needs or cannot load.
    """
    return BatchingEmbeddings(
        _provider(settings), max_batch=settings.batch_size, max_wait_ms=settings.batch_wait_ms
    )


def _provider(settings: EmbeddingsSettings) -> EmbeddingModel:
    if settings.provider == "minilm-onnx":
        from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings

        return MiniLMOnnxEmbeddings(batch_size=settings.batch_size, threads=settings.threads)
    if not settings.model:
        raise EmbeddingError(f"TANDEM_EMBEDDINGS__MODEL is required for {settings.provider}")
    if settings.provider == "sentence-transformers":
        from knowledge.embeddings.remote import SentenceTransformerEmbeddings

        return SentenceTransformerEmbeddings(model=settings.model, batch_size=settings.batch_size)
    from knowledge.embeddings.remote import HttpEmbeddings

    default_url = "http://127.0.0.1:11434" if settings.provider == "ollama" else None
    base_url = settings.base_url or default_url
    if not base_url:
        raise EmbeddingError("TANDEM_EMBEDDINGS__BASE_URL is required for the openai provider")
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return HttpEmbeddings(
        flavour=settings.provider,
        base_url=base_url,
        model=settings.model,
        api_key=key,
        batch_size=settings.batch_size,
    )

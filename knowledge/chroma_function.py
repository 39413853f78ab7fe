"""Our embedding models as a registered Chroma embedding function.

Registering it means a collection records which model built it, and Chroma never falls back to
its own default function (which downloads a model at first use).
"""

from __future__ import annotations

import weakref
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.embeddings.base import EmbeddingModel

# Chroma rebuilds the function from its config on every add; hand it the live model instead
# of loading the weights again.
_live_models: weakref.WeakValueDictionary[str, EmbeddingModel] = weakref.WeakValueDictionary()


@register_embedding_function
class TandemEmbeddingFunction(EmbeddingFunction[Documents]):
    """Wrap an ``EmbeddingModel`` for Chroma.

    Args:
        model: The embedding model to call.
    """

    def __init__(self, model: EmbeddingModel) -> None:
        self._model = model
        _live_models[model.name] = model

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._model.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "tandem"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TandemEmbeddingFunction:
        from knowledge.embeddings.minilm_onnx import MODEL_NAME, MiniLMOnnxEmbeddings

        live = _live_models.get(str(config.get("model")))
        if live is not None:
            return TandemEmbeddingFunction(live)
        if config.get("model") != MODEL_NAME:
            raise ValueError(f"open this collection with the model {config.get('model')!r}")
        return TandemEmbeddingFunction(MiniLMOnnxEmbeddings())

    def is_legacy(self) -> bool:
        return False

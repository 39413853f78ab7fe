"""Embeddings from an OpenAI-compatible or Ollama endpoint, or a local sentence-transformers model.

These are opt-in by settings. The HTTP providers call only the configured endpoint.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from typing import Any

import numpy as np

from knowledge.embeddings.base import EmbeddingError, Vectors, normalise


class HttpEmbeddings:
    """An OpenAI-compatible ``/embeddings`` or Ollama ``/api/embed`` endpoint.

    Args:
        flavour: ``"openai"`` or ``"ollama"``.
        base_url: The endpoint root, e.g. ``http://localhost:11434``.
        model: The model name the endpoint knows.
        api_key: A bearer token, if the endpoint wants one.
        batch_size: Texts per request.
        timeout_s: Seconds per request.
    """

    def __init__(
        self,
        *,
        flavour: str,
        base_url: str,
        model: str,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout_s: float = 30.0,
    ) -> None:
        self._flavour = flavour
        self._base = base_url.rstrip("/")
        self._model = model
        self._api_key = api_key
        self._batch_size = batch_size
        self._timeout = timeout_s

    @property
    def name(self) -> str:
        return f"{self._flavour}:{self._model}"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            self._base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                result: dict[str, Any] = json.loads(response.read())
                return result
        except (OSError, ValueError) as error:
            raise EmbeddingError(f"{self.name} at {self._base}: {error}") from error

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            if self._flavour == "openai":
                data = self._post("/embeddings", {"model": self._model, "input": batch})
                rows.extend(item["embedding"] for item in sorted(data["data"], key=_index))
            else:
                data = self._post("/api/embed", {"model": self._model, "input": batch})
                rows.extend(data["embeddings"])
        return normalise(np.asarray(rows, dtype=np.float32).reshape(len(texts), -1))


def _index(item: dict[str, Any]) -> int:
    return int(item.get("index", 0))


class SentenceTransformerEmbeddings:
    """A sentence-transformers model from a local path or an installed package (offline).

    Args:
        model: A model directory or name that sentence-transformers resolves locally.
        batch_size: Texts per forward pass.
    """

    def __init__(self, *, model: str, batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise EmbeddingError(
                "the sentence-transformers provider needs: pip install sentence-transformers"
            ) from error
        self._model_name = model
        self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return f"sentence-transformers:{self._model_name}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(list(texts), batch_size=self._batch_size)
        return normalise(np.asarray(vectors, dtype=np.float32))

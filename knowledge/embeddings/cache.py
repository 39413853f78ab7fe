"""A small least-recently-used cache in front of an embedding model.

A conversation's messages are embedded once for search and read again for its signals over the
next turns; the cache makes the second read free. Thread-safe: search runs in worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from knowledge.embeddings.base import EmbeddingModel, Vectors


class CachedEmbeddings:
    """Embeds through ``model``, remembering the last ``size`` texts.

    Args:
        model: The embedding model.
        size: Texts to remember.
    """

    def __init__(self, model: EmbeddingModel, *, size: int = 4096) -> None:
        self._model = model
        self._size = size
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._model.name

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for text in known:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self._model.embed(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    known[text] = vector
                    self._cache[text] = vector
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        if not texts:
            return self._model.embed([])
        return np.vstack([known[t] for t in texts]).astype(np.float32)

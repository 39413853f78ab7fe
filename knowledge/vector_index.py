"""Exact nearest-neighbour search over a knowledge base's vectors, in memory.

For the bases Tandem usually serves (hundreds to tens of thousands of chunks) one matrix-vector
product over the unit vectors is faster than Chroma's query (its HNSW search, reading the
metadata back from SQLite and building the result), and exact. Chroma stays the store, and
answers for bases above the cut-off (``TANDEM_KNOWLEDGE__EXACT_SEARCH_MAX_CHUNKS``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import numpy as np

from knowledge.embeddings.base import Vectors

Item = TypeVar("Item")


class ExactIndex(Generic[Item]):
    """Unit vectors with one item each; cosine similarity by one matrix-vector product.

    Args:
        vectors: ``(n, dim)`` unit vectors (kept as one contiguous float32 matrix, not copied
            when it already is one).
        items: What to return for each row.
    """

    def __init__(self, vectors: Vectors, items: Sequence[Item]) -> None:
        if len(items) != len(vectors):
            raise ValueError(f"{len(items)} items for {len(vectors)} vectors")
        self._matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        self._items = list(items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return int(self._matrix.nbytes)

    def nearest(self, vector: Vectors, k: int) -> list[tuple[Item, float]]:
        """The ``k`` items most similar to ``vector``, best first, with their similarity."""
        if not self._items or k <= 0:
            return []
        similarities = self._matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
        if k < len(similarities):
            top = np.argpartition(-similarities, k - 1)[:k]
        else:
            top = np.arange(len(similarities))
        # Best first; ties by row, so the order is stable.
        top = top[np.lexsort((top, -similarities[top]))]
        return [(self._items[i], float(similarities[i])) for i in top]


class LazyExactIndex(Generic[Item]):
    """An ``ExactIndex`` of a changing store, read on first use after each change; thread-safe.

    Args:
        max_items: Above this many items (or at 0) there is no index: ``get`` returns None.
        count: How many items the store holds now (cheap).
        load: Reads every vector and item of the store.
    """

    def __init__(
        self,
        max_items: int,
        count: Callable[[], int],
        load: Callable[[], tuple[Vectors, Sequence[Item]]],
    ) -> None:
        self._max = max_items
        self._count = count
        self._load = load
        self._index: ExactIndex[Item] | None = None
        self._lock = threading.Lock()
        self._version = 0  # bumped on every change; an index read meanwhile is not kept
        self._too_big_at = -1  # the version at which the store was too big

    def invalidate(self) -> None:
        """The store changed: drop the index (it is read again on next use)."""
        self._version += 1
        self._index = None

    def get(self) -> ExactIndex[Item] | None:
        index = self._index
        if index is not None or self._max <= 0:
            return index
        with self._lock:
            if self._index is not None or self._too_big_at == self._version:
                return self._index
            version = self._version
            if self._count() > self._max:
                self._too_big_at = version
                return None
            index = ExactIndex(*self._load())
            if version == self._version:
                self._index = index
            return index

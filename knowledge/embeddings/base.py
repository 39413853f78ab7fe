"""The embedding port that every provider implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class EmbeddingError(Exception):
    """The embedding model could not be loaded or could not embed."""


@runtime_checkable
class EmbeddingModel(Protocol):
    """Turns texts into L2-normalised vectors.

    ``name`` identifies the model and its weights: a collection built with one name refuses
    vectors from another.
    """

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` into a ``(len(texts), dim)`` float32 array of unit vectors."""
        ...


def normalise(vectors: npt.NDArray[np.floating]) -> Vectors:
    """Scale each row to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scaled: Vectors = (vectors / norms).astype(np.float32)
    return scaled

"""Signal heads: small logistic classifiers over the query embedding the bot already computes.

One matrix product per message (``(heads, 384)`` weights) reads frustration, a request for a
person, a complaint and the sensitive topics; no second model is loaded. The weights ship in
``signal_heads.npz`` beside this file and are reproduced by ``knowledge.heads.train`` (see
MODEL_CARD.md). They belong to one embedding model: with another one the heads are off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

HEADS_FILE = Path(__file__).with_name("signal_heads.npz")

Scores = dict[str, npt.NDArray[np.float64]]


class SignalHeads:
    """Logistic heads by name, with the threshold at which each one fires.

    Args:
        names: Head names, one per row of ``coef``.
        coef: ``(heads, dim)`` weights.
        intercept: ``(heads,)`` biases.
        thresholds: The probability at which each head fires.
        embedding_model: The embedding model the heads were trained on.
    """

    def __init__(
        self,
        *,
        names: Sequence[str],
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
        thresholds: Mapping[str, float],
        embedding_model: str,
    ) -> None:
        self.names = tuple(names)
        self._coef = np.asarray(coef, dtype=np.float32)
        self._intercept = np.asarray(intercept, dtype=np.float32)
        self.thresholds = dict(thresholds)
        self.embedding_model = embedding_model

    def score(self, vectors: npt.NDArray[np.float32]) -> Scores:
        """Each head's probability for each vector: ``{name: (len(vectors),)}``."""
        logits = np.asarray(vectors, dtype=np.float32) @ self._coef.T + self._intercept
        probabilities = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return {name: probabilities[:, i].astype(np.float64) for i, name in enumerate(self.names)}

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                names=np.array(self.names),
                coef=self._coef.astype(np.float16),
                intercept=self._intercept,
                meta=np.array(
                    json.dumps(
                        {"thresholds": self.thresholds, "embedding_model": self.embedding_model}
                    )
                ),
            )

    @classmethod
    def load(cls, path: Path = HEADS_FILE) -> SignalHeads:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(
                names=[str(n) for n in data["names"]],
                coef=data["coef"].astype(np.float64),
                intercept=data["intercept"].astype(np.float64),
                thresholds={k: float(v) for k, v in meta["thresholds"].items()},
                embedding_model=str(meta["embedding_model"]),
            )

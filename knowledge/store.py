"""The Chroma-backed chunk store: embedded (persistent) or a Chroma server.

Over 300 lines on purpose: every read and write of the collection lives here, so that the
in-memory index is invalidated in one place after each change."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np

from knowledge.documents import Chunk, SourceDocument, chunks_of, content_hash
from knowledge.embeddings.base import EmbeddingModel, Vectors
from knowledge.errors import EmbeddingMismatch
from knowledge.vector_index import LazyExactIndex

logger = logging.getLogger(__name__)
UpsertOutcome = Literal["added", "updated", "unchanged"]
ProgressCallback = Callable[[int], None]
# Up to this many chunks exact search in memory is as fast as Chroma's query or faster
# (bench/vector_index_bench.py: 0.2-0.3 ms against 2 ms at 200-1,000 chunks, even at 10,000).
EXACT_SEARCH_MAX_CHUNKS = 10_000
READ_PAGE = 5000  # chunks a read of the whole collection takes at a time
_Rows = dict[str, list[Any]]
# Keys of the collection's metadata that Tandem writes besides the embedding model's name.
CHANGE_STAMP = "tandem_change"  # a new random value after every write
SHARED_TARGET = "tandem_target_precision"  # the target an admin calibrated for, for every replica


@dataclass(frozen=True)
class Hit:
    """One chunk found by a vector query."""

    chunk_id: str
    article_id: str
    kind: str
    text: str
    title: str
    source: str
    url: str | None
    similarity: float


@dataclass(frozen=True)
class ArticlePassages:
    """An article's citation header and its answer passages."""

    title: str
    url: str | None
    source: str
    passages: list[str]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contents:
    """What a searcher needs of the whole collection, read in one pass."""

    passages: dict[str, ArticlePassages]
    texts: dict[str, list[str]]  # the title and every chunk's text (variants, passages), by article
    questions: dict[str, int]  # question variants by article

    def median_question_variants(self) -> float:
        return median_count(self.questions.get(article_id, 0) for article_id in self.texts)


def median_count(counts: Iterable[int]) -> float:
    """The median of ``counts`` (question variants an article), 0 for none: ``tandem kb stats``
    and the coverage check's "few variants" rule read it the same way."""
    values = list(counts)
    return float(np.median(values)) if values else 0.0


def contents_of(documents: Iterable[Any], metadatas: Iterable[Mapping[str, Any]]) -> Contents:
    """The ``Contents`` of chunks' texts and metadata, as read from the collection."""
    texts: dict[str, list[str]] = {}
    questions: dict[str, int] = {}
    answers: list[tuple[str, Mapping[str, Any]]] = []
    for text, meta in zip(documents, metadatas, strict=True):
        article_id = str(meta["article_id"])
        # The title heads the article's texts, as a FAQ row's title is no chunk of its own.
        texts.setdefault(article_id, [str(meta["title"])]).append(str(text))
        if meta["kind"] == "question":
            questions[article_id] = questions.get(article_id, 0) + 1
        elif meta["kind"] == "passage":
            answers.append((str(text), meta))
    return Contents(_passages_of(answers), texts, questions)


@dataclass(frozen=True)
class ArticleInfo:
    """An article as listed by ``tandem kb list``."""

    id: str
    title: str
    source: str
    url: str | None
    questions: int
    passages: int


def fingerprint_of(chunk_ids: Sequence[str]) -> str:
    """A hash of a set of chunk ids: the store's version."""
    return content_hash("\n".join(sorted(chunk_ids)))


def _passages_of(rows: Iterable[tuple[str, Any]]) -> dict[str, ArticlePassages]:
    """Answer passages ``(text, metadata)`` grouped under their article's header."""
    result: dict[str, ArticlePassages] = {}
    for text, meta in rows:
        article_id = str(meta["article_id"])
        entry = result.setdefault(
            article_id,
            ArticlePassages(
                str(meta["title"]),
                str(meta.get("url") or "") or None,
                str(meta["source"]),
                [],
                tuple(t for t in str(meta.get("tags") or "").split(",") if t),
            ),
        )
        entry.passages.append(text)
    return result


def _metadata(chunk: Chunk) -> dict[str, str]:
    return {
        "article_id": chunk.article_id,
        "kind": chunk.kind,
        "title": chunk.title,
        "source": chunk.source,
        "source_digest": chunk.source_digest,
        "url": chunk.url or "",
        "tags": ",".join(chunk.tags),
        "hash": chunk.hash,
    }


def _hit(chunk_id: str, meta: Any, text: str, similarity: float) -> Hit:
    return Hit(
        chunk_id=chunk_id,
        article_id=str(meta["article_id"]),
        kind=str(meta["kind"]),
        text=text,
        title=str(meta["title"]),
        source=str(meta["source"]),
        url=str(meta.get("url") or "") or None,
        similarity=similarity,
    )


class KnowledgeStore:
    """Chunks with their vectors in one Chroma collection (cosine space).

    Args:
        embeddings: The model that embeds chunks and queries.
        collection: The collection name.
        path: Directory of an embedded persistent Chroma (used when ``url`` is unset).
        url: A Chroma server, ``http://host:port``.
        exact_search_max_chunks: Up to this many chunks, queries search the vectors in memory
            (exact, read once after each change); above it, or at 0, Chroma answers them.

    Raises:
        EmbeddingMismatch: if the collection was built with another embedding model.
    """

    def __init__(
        self,
        *,
        embeddings: EmbeddingModel,
        collection: str,
        path: Path | None = None,
        url: str | None = None,
        exact_search_max_chunks: int = EXACT_SEARCH_MAX_CHUNKS,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from knowledge.chroma_function import TandemEmbeddingFunction

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            parsed = urlparse(url)
            self._client: Any = chromadb.HttpClient(
                host=parsed.hostname or "localhost",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        else:
            assert path is not None, "path or url is required"
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        self.embeddings = embeddings
        self.name = collection
        existing = {c.name: c for c in self._client.list_collections()}
        if collection in existing:
            built_with = (existing[collection].metadata or {}).get("embedding_model")
            if built_with and built_with != embeddings.name:
                raise EmbeddingMismatch(
                    f"collection {collection!r} was built with the embedding model {built_with!r}, "
                    f"but the settings use {embeddings.name!r}; switch back, or ingest into a new "
                    "collection (TANDEM_KNOWLEDGE__COLLECTION)"
                )
        self._embedding_function = TandemEmbeddingFunction(embeddings)
        self._collection = self._client.get_or_create_collection(
            collection,
            embedding_function=self._embedding_function,
            metadata={"embedding_model": embeddings.name},
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._batch = int(self._client.get_max_batch_size())
        self._exact = LazyExactIndex(exact_search_max_chunks, self.count, self._read_index)

    def count(self) -> int:
        """How many chunks are stored."""
        return int(self._collection.count())

    def _get_all(self, include: Sequence[str], where: dict[str, Any] | None = None) -> _Rows:
        """Every chunk that matches ``where``: its id and the ``include`` fields.

        The ids are read first, in one read (ids alone pass where a read of more than about
        32,000 chunks' fields fails on embedded Chroma: "too many SQL variables"), then the
        fields by id, ``READ_PAGE`` at a time. Another process's write in between cannot shift
        a chunk out of the read, as it could with pages by offset: a chunk deleted meanwhile is
        left out, every other one is read."""
        ids = [str(i) for i in self._collection.get(where=where, include=[])["ids"]]
        rows: _Rows = {"ids": [], **{name: [] for name in include}}
        if not include:
            rows["ids"] = ids
            return rows
        for start in range(0, len(ids), READ_PAGE):
            found = self._collection.get(ids=ids[start : start + READ_PAGE], include=list(include))
            rows["ids"].extend(found["ids"])
            for name in include:
                values = found[name]
                rows[name].extend(values if values is not None else [])
        return rows

    def source_digests(self, source: str) -> set[str]:
        """Digests of the stored versions of ``source`` (two after a failed update)."""
        return {str(meta["source_digest"]) for meta in self._stored(source).values()}

    def _stored(self, source: str) -> dict[str, Any]:
        """The metadata of ``source``'s stored chunks, by chunk id."""
        found = self._get_all(["metadatas"], {"source": source})
        return dict(zip(found["ids"], found["metadatas"], strict=True))

    def other_sources(self, document: SourceDocument) -> dict[str, set[str]]:
        """The article ids of ``document`` that other sources hold too, with those sources
        (their chunks join one article, which is rarely what an admin meant)."""
        ids = sorted({article.id for article in document.articles})
        found: dict[str, set[str]] = {}
        for start in range(0, len(ids), 500):
            where = {
                "$and": [
                    {"article_id": {"$in": ids[start : start + 500]}},
                    {"source": {"$ne": document.source}},
                ]
            }
            for meta in self._get_all(["metadatas"], where)["metadatas"]:
                found.setdefault(str(meta["article_id"]), set()).add(str(meta["source"]))
        return found

    def upsert_source(
        self, document: SourceDocument, progress: ProgressCallback | None = None
    ) -> UpsertOutcome:
        """Store a source's chunks, replacing the old ones if the source changed.

        Args:
            document: The parsed source.
            progress: Called with the number of chunks embedded after each batch.
        """
        stored = self._stored(document.source)
        previous = {str(meta["source_digest"]) for meta in stored.values()}
        chunks = chunks_of(document)
        if previous == {document.digest}:
            # The same version: unchanged, unless some of it was removed (``kb remove`` of one
            # of its articles), which ingesting the file again brings back. Only if what is
            # stored is exactly part of what the file gives now: chunked with other settings
            # (or by another release), the same ids hold other texts, and nothing is mixed in.
            expected = {chunk.id: chunk.hash for chunk in chunks}
            if any(expected.get(i) != str(meta.get("hash")) for i, meta in stored.items()):
                return "unchanged"
            chunks = [chunk for chunk in chunks if chunk.id not in stored]
            if not chunks:
                return "unchanged"
        # Embed the next batch while Chroma writes the previous one (both release the GIL).
        step = min(256, self._batch)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write") as writer:
            pending: Future[None] | None = None
            for start in range(0, len(chunks), step):
                part = chunks[start : start + step]
                vectors = self.embeddings.embed([chunk.text for chunk in part])
                if pending is not None:
                    pending.result()
                pending = writer.submit(self._write, part, vectors)
                if progress:
                    progress(len(part))
            if pending is not None:
                pending.result()
        if previous:
            # Only now drop the old versions: a failure above leaves them searchable.
            self._collection.delete(
                where={
                    "$and": [
                        {"source": document.source},
                        {"source_digest": {"$ne": document.digest}},
                    ]
                }
            )
            self._changed()
        return "updated" if previous else "added"

    def _changed(self) -> None:
        """After a write: the in-memory index is read again (one read during it is dropped),
        and the collection gets a new change stamp."""
        self._exact.invalidate()
        try:
            self._set_metadata({CHANGE_STAMP: uuid.uuid4().hex})
        except Exception:  # the chunks are written: other replicas see them at a full check
            logger.warning("could not stamp the collection after a write", exc_info=True)

    def reread_index(self) -> None:
        """Read the in-memory index again on the next search: another process may have written
        the collection (a Chroma server several replicas share)."""
        self._exact.invalidate()

    def _metadata_now(self) -> dict[str, Any]:
        """The collection's metadata as stored now (the collection object keeps what it read
        when it was opened)."""
        current = self._client.get_collection(
            self.name, embedding_function=self._embedding_function
        )
        return dict(current.metadata or {})

    def _set_metadata(self, values: dict[str, Any]) -> None:
        # Chroma replaces the whole metadata on modify: keep what is there.
        self._collection.modify(metadata={**self._metadata_now(), **values})

    def change_stamp(self) -> str | None:
        """A value that changes on every write (one small read, where ``fingerprint`` reads
        every chunk id); None for a collection no Tandem release with stamps has written."""
        stamp = self._metadata_now().get(CHANGE_STAMP)
        return str(stamp) if stamp is not None else None

    def shared_target(self) -> float | None:
        """The target precision an admin calibrated for (``tandem kb calibrate``), kept in the
        collection so that every replica fits for it; None if none was set."""
        target = self._metadata_now().get(SHARED_TARGET)
        return float(target) if target is not None else None

    def share_target(self, target_precision: float) -> None:
        """Keep the target precision in the collection (a change, as a write is). Read back and
        written again if another process's write replaced the metadata at the same moment."""
        for _ in range(5):
            self._set_metadata(
                {SHARED_TARGET: float(target_precision), CHANGE_STAMP: uuid.uuid4().hex}
            )
            if self.shared_target() == float(target_precision):
                return
        raise RuntimeError("the target precision could not be kept in the collection")

    def _write(self, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        self._collection.add(
            ids=[chunk.id for chunk in chunks],
            documents=[chunk.text for chunk in chunks],
            metadatas=[_metadata(chunk) for chunk in chunks],
            embeddings=vectors,
        )
        self._changed()

    def remove_article(self, article_id: str) -> int:
        """Delete an article's chunks; returns how many were removed."""
        ids = self._get_all([], {"article_id": article_id})["ids"]
        if ids:
            self._collection.delete(ids=ids)
            self._changed()
        return len(ids)

    def query(self, vector: Vectors, k: int) -> list[Hit]:
        """The ``k`` chunks nearest to one query vector, best first."""
        index = self._exact.get()
        if index is not None:
            return [
                replace(hit, similarity=similarity) for hit, similarity in index.nearest(vector, k)
            ]
        return self.chroma_query(vector, k)

    def _read_index(self) -> tuple[Vectors, list[Hit]]:
        found = self._get_all(["embeddings", "metadatas", "documents"])
        ids, texts, metas = found["ids"], found["documents"], found["metadatas"]
        hits = [_hit(*row, 0.0) for row in zip(ids, metas, texts, strict=True)]
        embeddings = found["embeddings"]
        if not ids:  # an empty knowledge base: nothing matches, everything escalates
            return np.zeros((0, 0), dtype=np.float32), hits
        return np.asarray(embeddings, dtype=np.float32).reshape(len(ids), -1), hits

    def chroma_query(self, vector: Vectors, k: int) -> list[Hit]:
        """The ``k`` nearest chunks by Chroma's own (approximate) query."""
        result = self._collection.query(
            query_embeddings=[vector],
            n_results=k,
            include=["metadatas", "documents", "distances"],
        )
        return [
            _hit(chunk_id, meta, text, 1.0 - float(distance))
            for chunk_id, meta, text, distance in zip(
                result["ids"][0],
                (result["metadatas"] or [[]])[0],
                (result["documents"] or [[]])[0],
                (result["distances"] or [[]])[0],
                strict=True,
            )
        ]

    def everything(self) -> tuple[list[str], Vectors, list[dict[str, Any]]]:
        """All chunk ids, vectors and metadata (for listing)."""
        ids, vectors, metadatas, _ = self._everything(["embeddings", "metadatas"])
        return ids, vectors, metadatas

    def everything_with_texts(self) -> tuple[list[str], Vectors, list[dict[str, Any]], list[str]]:
        """All chunk ids, vectors, metadata and texts (for fitting and calibration)."""
        return self._everything(["embeddings", "metadatas", "documents"])

    def _everything(
        self, include: list[str]
    ) -> tuple[list[str], Vectors, list[dict[str, Any]], list[str]]:
        found = self._get_all(include)
        ids, vectors = found["ids"], found["embeddings"]
        metadatas = [dict(m) for m in found["metadatas"]]
        texts = [str(text) for text in found.get("documents", [])]
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32), [], []
        array = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        return ids, array, metadatas, texts

    def articles(self) -> list[ArticleInfo]:
        """Every article with its chunk counts, sorted by id."""
        info: dict[str, dict[str, Any]] = {}
        for meta in self._get_all(["metadatas"])["metadatas"]:
            entry = info.setdefault(
                str(meta["article_id"]),
                {
                    "title": meta["title"],
                    "source": meta["source"],
                    "url": meta.get("url"),
                    "question": 0,
                    "passage": 0,
                },
            )
            entry[str(meta["kind"])] += 1
        return [
            ArticleInfo(
                id=article_id,
                title=str(entry["title"]),
                source=str(entry["source"]),
                url=str(entry["url"]) or None,
                questions=int(entry["question"]),
                passages=int(entry["passage"]),
            )
            for article_id, entry in sorted(info.items())
        ]

    def contents(self) -> Contents:
        """Every article's header and answers, every chunk's text and the question variants
        an article, in one read of the collection (the searcher is rebuilt on every change)."""
        found = self._get_all(["documents", "metadatas"])
        return contents_of(found["documents"], found["metadatas"])

    def passages_by_article(self) -> dict[str, ArticlePassages]:
        """Every article's header and answer passages, read in one pass."""
        found = self._get_all(["documents", "metadatas"], {"kind": "passage"})
        return _passages_of(zip(found["documents"], found["metadatas"], strict=True))

    def source_texts(self, source: str) -> list[str]:
        """The chunk texts of one source (for appending learned question variants)."""
        return [str(text) for text in self._get_all(["documents"], {"source": source})["documents"]]

    def fingerprint(self) -> str:
        """Changes whenever a chunk is added or removed."""
        return fingerprint_of(self._get_all([])["ids"])

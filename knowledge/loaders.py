"""Read source files (Markdown, text, HTML, FAQ CSV/JSONL) into ``SourceDocument``s.

Every failure raises ``SourceError`` naming the file and the problem.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from knowledge.chunking import first_heading, split_markdown
from knowledge.documents import Article, SourceDocument, content_hash
from knowledge.errors import SourceError

DOCUMENT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
FAQ_SUFFIXES = {".csv", ".jsonl"}
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | FAQ_SUFFIXES
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """A lowercase, dash-separated id."""
    return _SLUG.sub("-", text.lower()).strip("-") or "article"


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into the supported files below them; files are yielded as given."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        else:
            yield path


def read_text(path: Path, *, max_bytes: int) -> str:
    """Read a UTF-8 text file, refusing missing, huge, empty and binary files."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SourceError(name, f"cannot read ({error.strerror or error})") from error
    if not path.is_file():
        raise SourceError(name, "not a file")
    if size > max_bytes:
        raise SourceError(
            name,
            f"file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB "
            "(TANDEM_KNOWLEDGE__MAX_FILE_MB)",
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(name, f"cannot read ({error.strerror or error})") from error
    if b"\x00" in raw[:8192]:
        raise SourceError(name, "binary content, not a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(name, f"not UTF-8 text (bad byte at offset {error.start})") from error
    if not text.strip():
        raise SourceError(name, "file is empty")
    return text


def load(path: Path, *, max_bytes: int, chunk_size: int, chunk_overlap: int) -> SourceDocument:
    """Read one file into a ``SourceDocument``."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise SourceError(str(path), f"unsupported file type {suffix or '(none)'} ({supported})")
    text = read_text(path, max_bytes=max_bytes)
    source = str(path.resolve())
    if suffix == ".csv":
        articles = faq_articles(_csv_rows(text, source), source)
    elif suffix == ".jsonl":
        articles = faq_articles(_jsonl_rows(text, source), source)
    else:
        if suffix in {".html", ".htm"}:
            text = html_to_markdown(text)
        articles = [document_article(text, path, chunk_size, chunk_overlap)]
    return SourceDocument(source=source, articles=tuple(articles), digest=content_hash(text))


def _csv_rows(text: str, source: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        reader = csv.DictReader(io.StringIO(text))
        rows = [(number + 2, row) for number, row in enumerate(reader)]
    except csv.Error as error:
        raise SourceError(source, f"invalid CSV ({error})") from error
    _require_columns(list(reader.fieldnames or []), source)
    return rows


def _jsonl_rows(text: str, source: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(
                source, f"line {number}: invalid JSON ({error.msg} at column {error.colno})"
            ) from error
        if not isinstance(row, dict):
            raise SourceError(source, f"line {number}: expected a JSON object")
        _require_columns(list(row), source, where=f"line {number}: ", needed=("id", "question"))
        rows.append((number, row))
    return rows


def _require_columns(
    found: list[str],
    source: str,
    where: str = "",
    needed: tuple[str, ...] = ("id", "question", "answer"),
) -> None:
    missing = [column for column in needed if column not in found]
    if missing:
        raise SourceError(
            source,
            f"{where}missing column(s) {', '.join(missing)}; an FAQ file needs id, question, "
            f"answer (found: {', '.join(map(str, found)) or 'none'})",
        )


def faq_articles(rows: list[tuple[int, dict[str, Any]]], source: str) -> list[Article]:
    """Group FAQ rows by ``id``: rows that share an id are question variants of one article."""
    if not rows:
        raise SourceError(source, "no FAQ rows")
    grouped: dict[str, dict[str, Any]] = {}
    for number, row in rows:
        article_id = str(row.get("id") or "").strip()
        question = str(row.get("question") or "").strip()
        answer = str(row.get("answer") or "").strip()
        if not article_id:
            raise SourceError(source, f"line {number}: empty id")
        entry = grouped.setdefault(article_id, {"questions": [], "answer": "", "row": row})
        if question and question not in entry["questions"]:
            entry["questions"].append(question)
        if answer and not entry["answer"]:
            entry["answer"] = answer
    articles = []
    for article_id, entry in grouped.items():
        if not entry["answer"]:
            raise SourceError(source, f"article {article_id!r} has no answer")
        row = entry["row"]
        tags = row.get("tags") or ()
        if isinstance(tags, str):
            tags = [tag.strip() for tag in re.split(r"[,;|]", tags) if tag.strip()]
        title = str(row.get("title") or "").strip() or (entry["questions"] or [article_id])[0]
        articles.append(
            Article(
                id=article_id,
                title=title,
                questions=tuple(entry["questions"]),
                passages=(entry["answer"],),
                url=str(row.get("url") or "").strip() or None,
                tags=tuple(str(tag) for tag in tags),
            )
        )
    return articles


def document_article(text: str, path: Path, chunk_size: int, chunk_overlap: int) -> Article:
    """A Markdown or text document as one article; optional YAML front matter sets its fields."""
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            raise SourceError(str(path), f"invalid front matter ({error})") from error
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[match.end() :]
    title = str(meta.get("title") or first_heading(text) or path.stem.replace("-", " "))
    questions = [str(q) for q in meta.get("questions") or []]
    passages = split_markdown(text, chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    if not passages:
        raise SourceError(str(path), "no text to index")
    tags = meta.get("tags") or []
    return Article(
        id=str(meta.get("id") or slug(path.stem)),
        title=title,
        questions=tuple(dict.fromkeys([title, *questions])),
        passages=tuple(passages),
        url=str(meta["url"]) if meta.get("url") else None,
        tags=tuple(str(tag) for tag in tags),
    )


def html_to_markdown(html: str) -> str:
    """Keep an HTML page's headings and text as Markdown, dropping scripts and navigation."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    lines: list[str] = []
    title = soup.title.get_text(strip=True) if soup.title else ""
    body = soup.body or soup
    for element in body.find_all(["h1", "h2", "h3", "p", "li", "td", "pre"]):
        text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name in {"h1", "h2", "h3"}:
            lines.append("#" * int(element.name[1]) + " " + text)
        else:
            lines.append(("- " if element.name == "li" else "") + text)
    if title and not any(line.startswith("# ") for line in lines):
        lines.insert(0, f"# {title}")
    return "\n\n".join(lines)

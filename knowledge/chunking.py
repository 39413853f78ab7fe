"""Split documents into sections by headings, then into chunks of a sensible size."""

from __future__ import annotations

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


def split_markdown(text: str, *, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Split Markdown into passages that each start with their heading path.

    Args:
        text: The Markdown body (front matter already removed).
        chunk_size: Maximum characters per passage.
        chunk_overlap: Characters shared by neighbouring pieces of one long section.
    """
    sections = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True).split_text(text)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2)
    )
    passages: list[str] = []
    for section in sections:
        body = section.page_content.strip()
        if not body:
            continue
        heading = " › ".join(
            str(section.metadata[key]) for key in ("h1", "h2", "h3") if key in section.metadata
        )
        for piece in splitter.split_text(body):
            passages.append(f"{heading}\n{piece}" if heading else piece)
    return passages


def first_heading(text: str) -> str | None:
    """The text of the first level-1 heading, if any."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip() or None
    return None

"""Small text helpers shared by the core and every renderer."""

from __future__ import annotations


def clip(text: str, limit: int, more: str = "…") -> str:
    """``text`` cut to ``limit`` characters, ending with ``more`` when it was cut."""
    return text if len(text) <= limit else text[: limit - len(more)].rstrip() + more

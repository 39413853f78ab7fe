"""Learned knowledge: an admin accepts an agent's edited answer into the knowledge base."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Protocol

from bot.conversation import KnowledgeSuggestion
from knowledge.base import KnowledgeBase


class SuggestionStore(Protocol):
    """Learned answers awaiting an admin. Implemented by ``integrations.storage.SqlStore``."""

    async def suggestions(self, status: str = "pending") -> list[KnowledgeSuggestion]: ...
    async def set_suggestion_status(self, suggestion_id: int, old: str, new: str) -> bool: ...


def _title(question: str) -> str:
    first = re.split(r"(?<=[.?!])\s+", question.strip())[0]
    return first[:120] or "Learned answer"


async def accept_suggestion(
    store: SuggestionStore, knowledge_base: KnowledgeBase, suggestion_id: int
) -> KnowledgeSuggestion | None:
    """Ingest a pending suggestion as an FAQ article; None if it is not pending."""
    pending = {s.id: s for s in await store.suggestions("pending")}
    suggestion = pending.get(suggestion_id)
    if suggestion is None or not await store.set_suggestion_status(
        suggestion_id, "pending", "accepted"
    ):
        return None
    folder = knowledge_base.data_dir / "learned"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"suggestion-{suggestion_id}.jsonl"
    row = {
        "id": f"learned-{suggestion_id}",
        "question": suggestion.question,
        "answer": suggestion.answer,
        "title": _title(suggestion.question),
        "tags": "learned",
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    report = await asyncio.to_thread(knowledge_base.ingest, [Path(path)])
    if report.failed:
        await store.set_suggestion_status(suggestion_id, "accepted", "pending")
        raise RuntimeError(f"could not ingest suggestion {suggestion_id}: {report.failed[0][1]}")
    return suggestion


async def reject_suggestion(store: SuggestionStore, suggestion_id: int) -> bool:
    return await store.set_suggestion_status(suggestion_id, "pending", "rejected")

"""Proposed knowledge articles from agents' edited replies: when an agent's edit becomes a
learned answer, the model writes it up as an article (title, clean question, answer, no
personal data) for an admin to accept in its place. Off without a model or with
``TANDEM_LLM__PROPOSE_ARTICLES=false``; a failure leaves the agent's own words."""

from __future__ import annotations

import logging
from typing import Any

from bot.events import AGENTS, AgentEvent
from bot.ports import EventBus
from integrations.background import Background
from integrations.llm.assist import AssistingDrafter
from integrations.relay import follow
from integrations.storage.sql_store import SqlStore

logger = logging.getLogger(__name__)
SENDS = frozenset({"approve", "send"})


class ArticleProposals:
    """Follows agents' sends on every replica; each learned answer is proposed once.

    Args:
        store: Where suggestions live.
        bus: The engine's agent events.
        drafter: The model.
    """

    def __init__(self, *, store: SqlStore, bus: EventBus, drafter: AssistingDrafter) -> None:
        self.store = store
        self.bus = bus
        self.drafter = drafter
        self.background = Background()

    def start(self) -> None:
        self.background.spawn(follow(self.bus, AGENTS, self.on_event, "article proposals"))

    async def on_event(self, raw: dict[str, Any]) -> None:
        event = AgentEvent.from_dict(raw)
        if event.type not in SENDS:
            return
        for suggestion in await self.store.suggestions("pending"):
            if (
                suggestion.kind != "answer"
                or suggestion.proposal is not None
                or suggestion.conversation_id != event.conversation_id
                or not await self.store.claim(f"proposal:{suggestion.id}")
            ):
                continue
            proposed = await self.drafter.propose(suggestion.question, suggestion.answer)
            if proposed is None:
                continue
            article = {
                "title": proposed.title,
                "question": proposed.question,
                "answer": proposed.answer,
            }
            if await self.store.set_proposal(suggestion.id, article):
                logger.info("article proposed", extra={"suggestion": suggestion.id})

    async def close(self) -> None:
        await self.background.cancel()

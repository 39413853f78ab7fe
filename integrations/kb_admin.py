"""Knowledge admin commands shared by chat channels (Slack's ``/kb``, Teams' ``kb …``): each
returns a title and lines of text; the channel renders them."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from bot.conversation import KnowledgeSuggestion
from bot.model import UNSURE
from integrations.composition import Services
from integrations.learning import accept_suggestion, not_pending, settled_as

HELP = [
    "`add` — add an article (a title and an answer)",
    "`search QUESTION` — what the bot would answer, with confidence",
    "`show ID` · `remove ID` · `list` · `stats`",
    "`suggestions` — what agents taught (answers, question variants, gaps) · `accept ID`",
    "`gaps` — recent questions the bot was unsure of and still would",
    "`review` — grade the bot's answers, drawn at random (any agent, in an agent channel)",
]


@dataclass(frozen=True)
class Reply:
    title: str
    lines: list[str]


SLOW = {"accept": "Accepting #{argument}: the knowledge base refits, which takes a while…"}
"""Commands whose work takes long enough that the admin is told it started."""


def started(name: str, argument: str) -> Reply | None:
    """What to say at once before a slow command (None for a quick one)."""
    said = SLOW.get(name)
    return Reply("Working", [said.format(argument=argument)]) if said and argument else None


def parse(text: str) -> tuple[str, str]:
    """``"search where is my parcel"`` → ``("search", "where is my parcel")``."""
    name, _, rest = text.strip().partition(" ")
    return (name.lower() or "help"), rest.strip()


async def run(services: Services, name: str, argument: str, author: str) -> Reply:
    """Run one admin command. ``add`` takes ``"title" answer…``."""
    kb = services.knowledge_base
    if name == "search":
        if not argument:
            return Reply("Usage", ["`search QUESTION`"])
        decision = await services.engine.decide(argument)
        r = decision.retrieval
        learned = " learned across deployments" if r.learned else ""
        head = (
            f"decision: {decision.action} (confidence{learned} {r.confidence:.3f}, threshold "
            f"{r.threshold:.3f})"
        )
        return Reply(
            f"Search: {argument}",
            [head]
            + [
                f"{i}. {m.title} [{m.article_id}] similarity {m.similarity:.2f}"
                for i, m in enumerate(r.matches, start=1)
            ],
        )
    if name == "show":
        article = (await asyncio.to_thread(kb.store.passages_by_article)).get(argument)
        if article is None:
            return Reply("Not found", [f"no article '{argument}'"])
        return Reply(f"Article {argument}", [*article.passages])
    if name == "remove":
        removed = await asyncio.to_thread(kb.remove, argument)
        return Reply(
            "Removed" if removed else "Not found",
            [
                f"{removed} chunks of '{argument}' removed"
                if removed
                else f"no article '{argument}'"
            ],
        )
    if name == "list":
        articles = await asyncio.to_thread(kb.store.articles)
        return Reply(
            f"{len(articles)} articles",
            [f"{a.id}: {a.title} ({a.questions} questions)" for a in articles[:200]],
        )
    if name == "stats":
        stats = kb.stats()
        return Reply(
            "Knowledge base",
            [
                f"{stats.articles} articles, {stats.chunks} chunks, model {stats.embedding_model}",
                (
                    f"threshold {stats.threshold:.3f}, on the confidence learned across small "
                    f"deployments (median {stats.median_question_variants:g} question variants "
                    "an article)"
                    if stats.learned_confidence
                    else f"threshold {stats.threshold:.3f} (target precision "
                    f"{stats.target_precision:.2f}; expected precision "
                    f"{stats.expected_precision:.2f}, deflection {stats.expected_deflection:.2f})"
                ),
            ],
        )
    if name == "suggestions":
        pending = await services.store.suggestions("pending")
        return Reply(
            f"{len(pending)} pending suggestions",
            [
                f"#{s.id} from {s.agent}{f' (×{s.count})' if s.count > 1 else ''}: "
                f"Q: {s.question} → {_taught(s)}"
                + (f" · proposed article: {s.proposal['title']}" if s.proposal else "")
                for s in pending
            ],
        )
    if name == "accept":
        if not argument.isdigit():
            return Reply("Usage", ["`accept ID` (see `suggestions`)"])
        suggestion_id = int(argument)
        if await accept_suggestion(services.store, kb, suggestion_id):
            return Reply("Accepted", [f"suggestion #{argument} is now in the knowledge base"])
        settled = await settled_as(services.store, suggestion_id)
        return Reply(
            "Already done" if settled else "Not found", [not_pending(suggestion_id, settled)]
        )
    if name == "gaps":
        # An escalation's goal follows the conversation, and the knowledge base may have
        # learned since: a gap is one the bot still would not answer.
        gaps = [
            goal
            for goal in await services.store.escalated_questions([r.value for r in UNSURE])
            if (await services.engine.decide(goal)).action != "answer"
        ]
        return Reply("Knowledge gaps (escalated as unsure, still unanswered)", gaps)
    if name == "add":
        try:
            title, *answer = shlex.split(argument)
        except ValueError:
            title, answer = "", []
        if not title or not answer:
            return Reply("Usage", ['`add "Title" the answer…`'])
        article_id = await add_article(services, title, " ".join(answer), author)
        return Reply("Added", [f"article '{article_id}' is in the knowledge base"])
    if name != "help":
        return Reply("Unknown command", [f"there is no `{name}` command; these are:", *HELP])
    return Reply("Tandem knowledge commands", HELP)


def _taught(suggestion: KnowledgeSuggestion) -> str:
    """What accepting a suggestion adds, in a few words."""
    if suggestion.kind == "variant":
        return f"a question variant of '{suggestion.article_id}'"
    if suggestion.kind == "not_in_kb":
        return "not in the knowledge base (a gap; accepting adds nothing)"
    return f"A: {suggestion.answer}"


async def add_article(services: Services, title: str, answer: str, author: str) -> str:
    """Ingest an admin's article as an FAQ file (re-adding the same title replaces it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "article"
    article_id = f"admin-{slug}"
    folder: Path = services.knowledge_base.data_dir / "admin"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article_id}.jsonl"
    row = {
        "id": article_id,
        "question": title,
        "answer": answer,
        "title": title,
        "tags": f"added-by:{author}",
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    report = await asyncio.to_thread(services.knowledge_base.ingest, [path])
    if report.failed:
        raise ValueError(report.failed[0][1])
    return article_id

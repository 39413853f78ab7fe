"""``tandem kb suggestions`` and ``tandem kb accept``: review what agents taught the bot."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Column, Table

from integrations.cli.context import Context, open_knowledge_base, pass_context
from integrations.cli.kb import kb
from integrations.cli.store import with_store

if TYPE_CHECKING:
    from integrations.storage import SqlStore


def proposal_text(proposal: dict[str, str] | None) -> str:
    """A model's proposed article in one cell (accepted in place of the agent's words)."""
    if not proposal:
        return ""
    return f"{proposal['title']}\nQ: {proposal['question']}\nA: {proposal['answer']}"


KINDS = {"answer": "answer", "variant": "variant", "not_in_kb": "gap"}
"""How each kind of suggestion reads in the list: a new article, a question variant of an
article, or a gap in the knowledge base (accepting it adds nothing)."""


@kb.command()
@pass_context
def suggestions(context: Context) -> None:
    """List what agents taught, waiting for an admin: edited answers (accepting one adds an
    article), questions tagged with an article (accepting adds the question as one of its
    variants) and questions tagged as not in the knowledge base (a gap: nothing is added)."""

    async def run(store: SqlStore) -> None:
        pending = await store.suggestions("pending")
        if not pending:
            click.echo("no pending suggestions")
            return
        proposals = any(s.proposal for s in pending)
        columns: list[Column | str] = ["id", "kind", Column("question", ratio=1)]
        columns += [Column("answer / article", ratio=1), "agent", Column("when", no_wrap=True)]
        table = Table(*columns, *(["proposed article"] if proposals else []))
        for s in pending:
            taught = s.answer if s.kind == "answer" else (s.article_id or "not in the KB")
            question = s.question + (f" (taught {s.count} times)" if s.count > 1 else "")
            row = [str(s.id), KINDS.get(s.kind, s.kind), question, taught, s.agent]
            row.append(f"{s.created_at:%m-%d %H:%M}")
            table.add_row(*row, *([proposal_text(s.proposal)] if proposals else []))
        Console().print(table)

    asyncio.run(with_store(context.settings, run))


@kb.command()
@click.argument("suggestion_id", type=int)
@click.option("--reject", is_flag=True, help="Reject it instead (nothing is ingested).")
@pass_context
def accept(context: Context, suggestion_id: int, reject: bool) -> None:
    """Accept a learned suggestion into the knowledge base (or --reject it)."""

    from integrations.learning import (
        accept_suggestion,
        not_pending,
        reject_suggestion,
        settled_as,
    )

    async def run(store: SqlStore) -> str | None:
        """None when done, else why not."""
        if reject:
            done = await reject_suggestion(store, suggestion_id)
        else:
            knowledge_base = open_knowledge_base(context, to_change=True)
            done = await accept_suggestion(store, knowledge_base, suggestion_id) is not None
        return None if done else not_pending(suggestion_id, await settled_as(store, suggestion_id))

    failed = asyncio.run(with_store(context.settings, run))
    if failed:
        click.echo(f"tandem: {failed}", err=True)
        sys.exit(1)
    click.echo(f"suggestion {suggestion_id} {'rejected' if reject else 'accepted'}")

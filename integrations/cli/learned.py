"""``tandem kb suggestions`` and ``tandem kb accept``: review what agents taught the bot."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

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


@kb.command()
@pass_context
def suggestions(context: Context) -> None:
    """List answers agents edited, waiting to be accepted into the knowledge base."""

    async def run(store: SqlStore) -> None:
        pending = await store.suggestions("pending")
        if not pending:
            click.echo("no pending suggestions")
            return
        proposals = any(s.proposal for s in pending)
        columns = ["id", "times", "question", "agent's answer", "agent", "when"]
        table = Table(*columns, *(["proposed article"] if proposals else []))
        for s in pending:
            row = [str(s.id), str(s.count), s.question, s.answer, s.agent]
            row.append(f"{s.created_at:%Y-%m-%d %H:%M}")
            table.add_row(*row, *([proposal_text(s.proposal)] if proposals else []))
        Console().print(table)

    asyncio.run(with_store(context.settings, run))


@kb.command()
@click.argument("suggestion_id", type=int)
@click.option("--reject", is_flag=True, help="Reject it instead (nothing is ingested).")
@pass_context
def accept(context: Context, suggestion_id: int, reject: bool) -> None:
    """Accept a learned suggestion into the knowledge base (or --reject it)."""

    from integrations.learning import accept_suggestion, reject_suggestion

    async def run(store: SqlStore) -> bool:
        if reject:
            return await reject_suggestion(store, suggestion_id)
        knowledge_base = open_knowledge_base(context, to_change=True)
        return await accept_suggestion(store, knowledge_base, suggestion_id) is not None

    if not asyncio.run(with_store(context.settings, run)):
        click.echo(f"tandem: no pending suggestion {suggestion_id}", err=True)
        sys.exit(1)
    click.echo(f"suggestion {suggestion_id} {'rejected' if reject else 'accepted'}")

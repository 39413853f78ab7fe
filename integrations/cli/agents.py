"""``tandem agents``: desk accounts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from integrations.cli.context import Context, pass_context
from integrations.cli.store import with_store

if TYPE_CHECKING:
    from integrations.storage import SqlStore


@click.group()
def agents() -> None:
    """Manage agent accounts for the built-in desk."""


@agents.command()
@click.argument("username")
@click.option("--name", help="Shown to customers and on cards. Default: the username.")
@click.password_option(
    envvar="TANDEM_AGENT_PASSWORD", help="Prompted for when not given (or TANDEM_AGENT_PASSWORD)."
)
@pass_context
def add(context: Context, username: str, name: str | None, password: str) -> None:
    """Create an agent (or reset an existing agent's name and password)."""
    from integrations.web.accounts import AgentAccount
    from integrations.web.auth import hash_password

    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    account = AgentAccount(username, name or username, hash_password(password))

    async def run(store: SqlStore) -> None:
        await store.add_agent(account)

    asyncio.run(with_store(context.settings, run))
    click.echo(f"agent '{username}' saved")

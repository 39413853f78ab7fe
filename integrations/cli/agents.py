"""``tandem agents``: desk accounts."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import click

from integrations.cli.context import Context, pass_context
from integrations.cli.store import with_store

if TYPE_CHECKING:
    from integrations.storage import SqlStore


@click.group()
def agents() -> None:
    """Manage agent accounts for the built-in desk."""


USERNAME = re.compile(r"[\w.@+-]{1,64}")


def _username(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A name an agent can sign in with on the desk (which takes 1 to 64 characters)."""
    if not USERNAME.fullmatch(value):
        raise click.BadParameter(
            "use 1 to 64 letters, digits or . _ @ + - (no spaces)", ctx=ctx, param=param
        )
    return value


@agents.command()
@click.argument("username", callback=_username)
@click.option(
    "--name",
    type=click.STRING,
    help="Shown to customers and on cards (at most 100 characters). Default: the username.",
)
@click.password_option(
    envvar="TANDEM_AGENT_PASSWORD", help="Prompted for when not given (or TANDEM_AGENT_PASSWORD)."
)
@pass_context
def add(context: Context, username: str, name: str | None, password: str) -> None:
    """Create an agent (or reset an existing agent's name and password)."""
    from integrations.web.accounts import AgentAccount
    from integrations.web.auth import hash_password

    if name is not None and not 0 < len(name.strip()) <= 100:
        raise click.BadParameter("use 1 to 100 characters", param_hint="--name")
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    account = AgentAccount(username, name or username, hash_password(password))

    async def run(store: SqlStore) -> None:
        await store.add_agent(account)

    asyncio.run(with_store(context.settings, run))
    click.echo(f"agent '{username}' saved")

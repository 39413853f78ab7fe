"""``tandem config``: inspect the effective settings."""

from __future__ import annotations

import json

import click

from config import masked_settings
from integrations.cli.context import Context, pass_context


@click.group()
def config() -> None:
    """Inspect the settings."""


@config.command("show")
@pass_context
def show(context: Context) -> None:
    """Print the effective settings as JSON, with secrets masked."""
    click.echo(json.dumps(masked_settings(context.settings), indent=2, default=str))

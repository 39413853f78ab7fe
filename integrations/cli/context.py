"""What every ``tandem`` subcommand shares: the lazily loaded settings and the knowledge base
they open. Commands import this module, never ``cli.main`` (which imports them)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from config import Settings, SettingsError, load_settings
from config.loading import unknown_variables
from integrations.logs import configure_logging

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase


class Context:
    """Lazily built settings shared by subcommands."""

    def __init__(self, env_file: Path | None) -> None:
        self.env_file = env_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.env_file)
            except SettingsError as error:
                click.echo(f"tandem: {error}", err=True)
                sys.exit(2)
            for line in unknown_variables(os.environ):
                click.echo(f"tandem: warning: {line}", err=True)
            configure_logging(self._settings.server.log_level, self._settings.server.log_format)
        return self._settings


pass_context = click.make_pass_decorator(Context)

target_precision_option = click.option(
    "--target-precision",
    type=click.FloatRange(0.5, 0.999),
    default=0.9,
    show_default=True,
    help="Share of the bot's answers that must be right; calibration picks the threshold.",
)


def open_knowledge_base(context: Context, *, to_change: bool = False) -> KnowledgeBase:
    """The configured knowledge base; exits with status 2 when it cannot open, and with 1 when
    ``to_change`` it and a running service owns the embedded store."""
    from integrations.cli.serving_lock import owner
    from integrations.composition import open_knowledge_base as open_configured
    from knowledge.errors import KnowledgeError

    knowledge = context.settings.knowledge
    pid = owner(knowledge.data_dir) if to_change and not knowledge.chroma_url else None
    if pid is not None:
        click.echo(
            f"tandem: a service (tandem serve, pid {pid}) runs on {knowledge.data_dir} with "
            "embedded Chroma, which one process owns: it would not see this change, and two "
            "writers can spoil the store. Change knowledge through it (/kb in Slack or Teams, "
            "the desk's suggestions) or stop it first.",
            err=True,
        )
        sys.exit(1)
    try:
        return open_configured(context.settings)
    except KnowledgeError as error:
        click.echo(f"tandem: {error}", err=True)
        sys.exit(2)

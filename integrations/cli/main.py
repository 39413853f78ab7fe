"""``tandem``: the command-line entry point."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from integrations.cli.context import Context


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--env-file",
    type=click.Path(path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="A dotenv file with TANDEM_* settings.",
)
@click.version_option(package_name="tandem")
@click.pass_context
def cli(ctx: click.Context, env_file: Path) -> None:
    """Tandem: a customer-service bot that answers from a knowledge base and hands over to
    people when it should not answer."""
    source = ctx.get_parameter_source("env_file")
    if source is not click.core.ParameterSource.DEFAULT and not env_file.is_file():
        raise click.BadParameter(f"no such file: {env_file}", param_hint="--env-file")
    ctx.obj = Context(env_file)


def main() -> None:
    """Console-script entry point."""
    from integrations.cli import (
        agents,
        config_cmd,
        evaluate,
        kb,
        learned,
        serve,
        slack_cmd,
        teams_cmd,
    )

    assert learned  # registers ``kb suggestions`` and ``kb accept`` on the kb group
    cli.add_command(agents.agents)
    cli.add_command(config_cmd.config)
    cli.add_command(kb.kb)
    cli.add_command(evaluate.eval_command)
    cli.add_command(serve.serve)
    cli.add_command(slack_cmd.slack)
    cli.add_command(teams_cmd.teams)
    try:
        cli(prog_name="tandem")
    except (NotADirectoryError, IsADirectoryError, PermissionError, FileExistsError) as error:
        # A data directory that cannot be one: one line, not a traceback.
        click.echo(f"tandem: {error}", err=True)
        sys.exit(1)

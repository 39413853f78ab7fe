"""``tandem teams``: helpers for installing the Teams app."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from integrations.cli.context import Context, pass_context


@click.group()
def teams() -> None:
    """Microsoft Teams app helpers."""


@teams.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("tandem-teams.zip"),
    show_default=True,
    help="The zip to write.",
)
@pass_context
def package(context: Context, out: Path) -> None:
    """Build the Teams app package (manifest and icons) from the settings, for sideloading.

    Needs TANDEM_TEAMS__APP_ID and an https TANDEM_SERVER__PUBLIC_URL.
    """
    from integrations.teams.package import PackageError, write_package

    try:
        write_package(context.settings, out)
    except PackageError as error:
        click.echo(f"tandem: {error}", err=True)
        sys.exit(2)
    click.echo(f"wrote {out}")
    teams, url = context.settings.teams, context.settings.server.public_url
    if not (teams.privacy_url and teams.terms_url):
        click.echo(
            f"warning: the package points at {url}/privacy and {url}/terms, which Tandem does "
            "not serve; set TANDEM_TEAMS__PRIVACY_URL and TANDEM_TEAMS__TERMS_URL to your "
            "organisation's pages before publishing the app",
            err=True,
        )

"""``tandem slack``: helpers for installing the Slack app."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import click


@click.group()
def slack() -> None:
    """Slack app helpers."""


@slack.command()
@click.option("--url", required=True, help="The public base URL of Tandem, e.g. https://host.")
def manifest(url: str) -> None:
    """Print the Slack app manifest for this host (paste it into api.slack.com/apps)."""
    from integrations.slack.manifest import build_manifest

    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise click.BadParameter("Slack needs an https:// URL with a host", param_hint="--url")
    click.echo(json.dumps(build_manifest(url), indent=2))

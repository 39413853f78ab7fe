"""``tandem serve``: run the HTTP service."""

from __future__ import annotations

import click

from integrations.cli.context import Context, pass_context


@click.command()
@click.option("--host", default=None, help="Overrides TANDEM_SERVER__HOST.")
@click.option("--port", type=int, default=None, help="Overrides TANDEM_SERVER__PORT.")
@pass_context
def serve(context: Context, host: str | None, port: int | None) -> None:
    """Start the service. On first start an empty knowledge base gets the sample articles."""
    import logging

    from aiohttp import web

    from integrations.composition import serving_on
    from integrations.memory import limit_arenas
    from integrations.web.app import create_app

    limit_arenas()
    settings = serving_on(context.settings, host, port)
    web.run_app(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        print=lambda message: click.echo(message, err=True),
        # A line per request costs CPU on every message, and URLs can carry tokens: debug only.
        access_log=logging.getLogger("aiohttp.access")
        if settings.server.log_level == "debug"
        else None,
    )

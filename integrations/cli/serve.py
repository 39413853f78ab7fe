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

    from integrations.memory import use_system_allocator

    use_system_allocator()  # before anything worth keeping: the process starts again

    from integrations.composition import serving_on
    from integrations.memory import limit_arenas
    from integrations.web.app import create_app
    from integrations.web.serving import run

    limit_arenas()
    settings = serving_on(context.settings, host, port)
    run(
        create_app(settings),
        settings.server.host,
        settings.server.port,
        print=lambda message: click.echo(message, err=True),
        # A line per request costs CPU on every message: debug only. The lines are structured
        # and hold no query secret (``?token=`` is redacted).
        access_log=logging.getLogger("aiohttp.access")
        if settings.server.log_level == "debug"
        else None,
    )

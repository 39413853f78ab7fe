"""``tandem serve``: run the HTTP service."""

from __future__ import annotations

import socket
import sys

import click

from integrations.cli.context import Context, pass_context


@click.command()
@click.option("--host", default=None, help="Overrides TANDEM_SERVER__HOST.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Overrides TANDEM_SERVER__PORT."
)
@pass_context
def serve(context: Context, host: str | None, port: int | None) -> None:
    """Start the service. On first start an empty knowledge base gets the sample articles."""
    import logging

    from integrations.memory import use_system_allocator

    use_system_allocator()  # before anything worth keeping: the process starts again

    from integrations.cli.serving_lock import serving
    from integrations.composition import serving_on
    from integrations.memory import limit_arenas
    from integrations.web.app import create_app
    from integrations.web.serving import run

    limit_arenas()
    settings = serving_on(context.settings, host, port)
    address = f"{settings.server.host}:{settings.server.port}"
    # Before a minute of start-up (models, the sample knowledge base), not after it.
    problem = bind_problem(settings.server.host, settings.server.port)
    if problem:
        click.echo(f"tandem: cannot serve on {address}: {problem}", err=True)
        sys.exit(1)
    # A line per request costs CPU on every message: debug only. The lines are structured and
    # hold no query secret (``?token=`` is redacted).
    access_log = logging.getLogger("aiohttp.access")
    try:
        with serving(settings.knowledge.data_dir):  # the CLI will not write beside it
            run(
                create_app(settings),
                settings.server.host,
                settings.server.port,
                print=lambda message: click.echo(message, err=True),
                access_log=access_log if settings.server.log_level == "debug" else None,
            )
    except OSError as error:  # taken between the check and the start
        if error.errno is None or "address" not in str(error).lower():
            raise
        click.echo(f"tandem: cannot serve on {address}: {error}", err=True)
        sys.exit(1)


def bind_problem(host: str, port: int) -> str | None:
    """Why the service could not listen on ``host``:``port`` (an unknown host, a port in use
    or not allowed), or None."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:  # socket.gaierror included
        return error.strerror or str(error)
    return None

"""Running the application on a socket: slow clients time out, connections are capped, and the
access log never holds a secret from a query string (issue 12 items 15 and 17)."""

from __future__ import annotations

import asyncio
import logging
import re
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

from integrations.web.keys import BODY_TIMEOUT

logger = logging.getLogger(__name__)
SECRET_NAMES = re.compile(r"token|key|secret|pass|auth|sig|session|jwt|code|credential", re.I)
# A value shaped like a bearer token (long, from a token alphabet) is hidden whatever its name.
BEARER_SHAPED = re.compile(r"[A-Za-z0-9_\-.~+/=]{20,}")
REDACTED = "REDACTED"
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n"
    b"Retry-After: 5\r\n\r\n"
)


def _default_max_connections() -> int:
    """Well under the open-file limit, so the process keeps descriptors for its own work."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(32, min(10_000, soft - 128))


@dataclass(frozen=True)
class ServerLimits:
    """How long a client may take, and how many may be connected at once.

    Attributes:
        header_timeout: Seconds from connecting (or from the previous response) until a
            request's headers are complete; also the keep-alive idle time.
        body_timeout: Seconds to send a request's whole body once its headers are in.
        max_connections: Connections open at once (sockets included); the next is told 503.
        lingering: Seconds spent draining a body the handler did not read before closing.
    """

    header_timeout: float = 20.0
    body_timeout: float = 20.0
    max_connections: int = field(default_factory=_default_max_connections)
    lingering: float = 2.0


def redact_query(request: BaseRequest) -> str:
    """The query string with every secret-looking value replaced by ``REDACTED``."""
    parts = []
    for name, value in request.rel_url.query.items():
        hidden = SECRET_NAMES.search(name) or BEARER_SHAPED.fullmatch(value)
        parts.append(f"{quote(name, safe='')}={REDACTED if hidden else quote(value, safe='')}")
    return "&".join(parts)


class RedactingAccessLogger(AbstractAccessLogger):
    """One structured line per request: method, path, the query minus secrets, status, size,
    time and client. Never the raw request line, which carries ``?token=``."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path[:500],
                "query": redact_query(request)[:500],
                "status": response.status,
                "bytes": response.body_length,
                "ms": round(time * 1000, 1),
                "remote": request.remote,
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class _Busy(asyncio.Protocol):
    """A connection over the cap: told 503 and closed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(BUSY)
        transport.close()


class CappedSite(web.BaseSite):
    """A TCP site that refuses connections beyond ``max_connections``."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int):
        super().__init__(runner)
        self._host, self._port, self._cap = host, port, max_connections
        self._bound: int | None = None
        self.refused = 0

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        """The bound port (the asked one until started; useful with port 0)."""
        return self._bound or self._port

    def _protocol(self) -> asyncio.BaseProtocol:
        server = self._runner.server
        assert isinstance(server, web.Server)
        if len(server.connections) >= self._cap:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                logger.warning("connection cap reached", extra={"refused": self.refused})
            return _Busy()
        return server()

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            self._protocol, self._host, self._port, backlog=128, reuse_address=True
        )
        self._server = server
        self._bound = int(server.sockets[0].getsockname()[1]) if server.sockets else None


async def start(
    app: web.Application,
    host: str,
    port: int,
    limits: ServerLimits,
    access_log: logging.Logger | None = None,
) -> tuple[web.AppRunner, CappedSite]:
    """Start serving ``app``; stop with ``runner.cleanup()``."""
    app[BODY_TIMEOUT] = limits.body_timeout
    runner = web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        access_log=access_log,
        keepalive_timeout=limits.header_timeout,
        lingering_time=limits.lingering,
    )
    await runner.setup()
    site = CappedSite(runner, host, port, limits.max_connections)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, site


def run(
    app: web.Application,
    host: str,
    port: int,
    *,
    limits: ServerLimits | None = None,
    access_log: logging.Logger | None = None,
    print: Callable[[str], None] = lambda message: None,
) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully."""

    async def main() -> None:
        runner, site = await start(app, host, port, limits or ServerLimits(), access_log)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            print(f"======== Running on {site.name} ========\n(Press CTRL+C to quit)")
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())

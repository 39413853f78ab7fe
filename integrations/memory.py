"""Give freed memory back to the operating system (glibc), so the server's RSS is what it uses.

glibc keeps freed heap memory for reuse: after start-up (imports, the ONNX session, an ingest
and the classifier fit) about 60 MB of a fresh server's RSS was free memory, and memory freed
by closed WebSockets or a burst of traffic stayed resident. ``malloc_trim(0)`` returns it.
Each thread that allocates may also get its own heap arena (up to 8 per core); two arenas keep
the worker threads' garbage from spreading over sixteen heaps at no measured cost in speed.
Elsewhere than on glibc these are no-ops.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import AsyncIterator
from functools import cache

logger = logging.getLogger(__name__)
M_ARENA_MAX = -8
TRIM_EVERY_S = 60.0


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        return libc
    except (OSError, AttributeError, TypeError):
        return None


def use_system_allocator() -> None:
    """Start this process again under the C library's allocator (``PYTHONMALLOC=malloc``)
    unless an allocator was chosen already (set ``PYTHONMALLOC`` to keep another).

    Python's own small-object allocator gives a 1 MB arena back only once every object in it
    is freed, so a burst of WebSockets left most of its memory behind when they closed (14 of
    24 MB for 1,000 sockets); under the C library's allocator ``malloc_trim`` returns it (all
    but 5 MB). Call it first thing: ``exec`` replaces the process (same pid) and nothing done
    before survives.
    """
    if "PYTHONMALLOC" in os.environ or _libc() is None:
        return
    environment = {**os.environ, "PYTHONMALLOC": "malloc"}
    sys.stdout.flush()  # what is buffered would be lost with the old process image
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environment)
    except OSError as error:  # keep running as we are
        logger.warning("could not restart under the system allocator: %s", error)


def limit_arenas(arenas: int = 2) -> bool:
    """At most ``arenas`` malloc arenas from now on (call before threads start)."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas))


def release_freed_memory() -> bool:
    """Return freed heap memory to the operating system; True when some was."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))


async def trim_periodically(app: object) -> AsyncIterator[None]:
    """An aiohttp cleanup context: trim every minute. (The trim after start-up is the
    reclaimer's, once the services are built: ``integrations.web.reclaim``.)"""

    async def loop() -> None:
        while True:
            await asyncio.sleep(TRIM_EVERY_S)
            await asyncio.to_thread(release_freed_memory)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

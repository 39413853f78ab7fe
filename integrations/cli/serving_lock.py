"""Which ``tandem serve`` owns a data directory on embedded Chroma.

Embedded Chroma belongs to one process: a change another process writes there is not seen by
the running service (it keeps answering from what it read), and two writers can spoil the
store. ``tandem serve`` holds a shared lock on ``DATA_DIR/serve.pid`` (with its process id in
it, for the message) while it runs, and the commands that change knowledge refuse to write
while anyone holds it. The kernel releases the lock when the process ends, however it ends,
so a crash leaves nothing to clean up and a reused process id means nothing.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PID_FILE = "serve.pid"


@contextmanager
def serving(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's service lock while the block runs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / PID_FILE).open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)  # several services may share a directory
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def owner(data_dir: Path) -> str | None:
    """The process id a running ``tandem serve`` on ``data_dir`` noted (or "unknown"), or
    None if no service holds the lock."""
    try:
        handle = (data_dir / PID_FILE).open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "unknown"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None

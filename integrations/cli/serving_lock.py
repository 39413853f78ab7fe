"""Which ``tandem serve`` owns a data directory on embedded Chroma.

Embedded Chroma belongs to one process: a change another process writes there is not seen by
the running service (it keeps answering from what it read), and two writers can spoil the
store. ``tandem serve`` notes its process id in the data directory while it runs, and the
commands that change knowledge refuse to write beside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PID_FILE = "serve.pid"


@contextmanager
def serving(data_dir: Path) -> Iterator[None]:
    """Note this process as the data directory's service while the block runs."""
    path = data_dir / PID_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        if owner(data_dir) == os.getpid():
            path.unlink(missing_ok=True)


def owner(data_dir: Path) -> int | None:
    """The process id of a running ``tandem serve`` on ``data_dir``, or None (none noted, or
    the noted process is gone: a crash leaves the file behind)."""
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"serve" not in cmdline.read_bytes():
        return None  # the id was reused by another program
    return pid

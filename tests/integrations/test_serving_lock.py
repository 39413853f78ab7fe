"""The lock ``tandem serve`` holds on an embedded data directory."""

from __future__ import annotations

import os
from pathlib import Path

from integrations.cli.serving_lock import PID_FILE, owner, serving


def test_the_lock_is_held_while_serving_and_a_stale_note_means_nothing(tmp_path: Path) -> None:
    assert owner(tmp_path) is None
    (tmp_path / PID_FILE).write_text("4242\n")  # left by a crash; the pid may be anyone's now
    assert owner(tmp_path) is None
    with serving(tmp_path), serving(tmp_path):  # two services may share a directory
        assert owner(tmp_path) == str(os.getpid())
    assert owner(tmp_path) is None

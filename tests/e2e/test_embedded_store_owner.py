"""Embedded Chroma belongs to one process: while ``tandem serve`` runs on a data directory,
the CLI refuses to change its knowledge (the service would not see the change, and two writers
can spoil the store) and still reads it; once the service stops, the change goes in."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.processes import TANDEM, run_cli, serving, tandem_env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TANDEM, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_cli_does_not_write_beside_a_running_service(tmp_path: Path) -> None:
    env = tandem_env(tmp_path / "data")
    with serving(env, tmp_path / "serve.log"):
        refused = cli(env, "kb", "remove", "opening-hours")
        assert refused.returncode == 1
        assert "a service (tandem serve, pid" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert "opening-hours" in run_cli(env, "kb", "list"), "reading is fine"
    # The lock went with the process: the note left behind stops nothing.
    assert "removed opening-hours" in run_cli(env, "kb", "remove", "opening-hours")

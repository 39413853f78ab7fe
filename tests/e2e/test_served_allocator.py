"""``tandem serve`` runs under the C library's allocator (memory freed by closed WebSockets can
go back to the system), unless the operator chose an allocator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from integrations import memory
from tests.e2e.processes import serving_process, tandem_env


def test_the_served_process_restarts_under_the_system_allocator(tmp_path: Path) -> None:
    env = tandem_env(tmp_path / "data")
    env.pop("PYTHONMALLOC", None)
    with serving_process(env, tmp_path / "serve.log") as (_, process):
        environ = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
    assert b"PYTHONMALLOC=malloc" in environ  # the same pid, exec'd once


def test_an_allocator_the_operator_chose_is_kept(
    mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    execve = mocker.patch.object(memory.os, "execve")
    monkeypatch.setenv("PYTHONMALLOC", "pymalloc")
    memory.use_system_allocator()
    execve.assert_not_called()
    monkeypatch.delenv("PYTHONMALLOC")
    memory.use_system_allocator()
    program, argv, environment = execve.call_args.args
    assert program == sys.executable and argv[1:] == sys.orig_argv[1:]
    assert environment["PYTHONMALLOC"] == "malloc"

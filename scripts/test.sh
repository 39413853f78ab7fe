#!/usr/bin/env bash
# Install Tandem with its test extras into .venv and run the whole test suite, ruff and mypy.
# Works on a fresh machine with Python 3.11 and pip. Extra pytest arguments pass through.
# Also installs Debian's chromium (browser tests) and starts Postgres and Redis if stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
install_tandem "[test]"
bash scripts/system-deps.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy
pytest "$@"

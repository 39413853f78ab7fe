# Sourced by serve.sh and test.sh: make .venv with Python 3.11 (or python3) and install into it.
# Usage: install_tandem [EXTRAS]   e.g. install_tandem "[test]"
install_tandem() {
  local python=${PYTHON:-python3.11}
  command -v "$python" >/dev/null || python=python3
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${1:-}"
}

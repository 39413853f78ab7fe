#!/usr/bin/env bash
# What the test suite needs beyond Python: Debian's chromium for the browser tests (Playwright
# drives it; nothing downloads a browser of its own) and the adaptivecards npm package for the
# Teams card tests. Idempotent; run by test.sh.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
# The adaptivecards renderer for the Teams card tests (npm registry; pinned by the lock file).
if [ ! -d tests/js/node_modules/adaptivecards ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi

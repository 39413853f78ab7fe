#!/usr/bin/env bash
# System packages the test suite needs: Debian's chromium for the browser tests (Playwright
# drives it; nothing downloads a browser of its own). Idempotent; sourced by test.sh.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

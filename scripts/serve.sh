#!/usr/bin/env bash
# Install Tandem into .venv and start it on the embedded default (no credentials needed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
install_tandem
exec .venv/bin/tandem serve "$@"

#!/usr/bin/env sh
# Set everything up and run the whole pipeline on the built-in sample (150,000 sessions).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/telco run --out "${1:-telco-runs/sample}"

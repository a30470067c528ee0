#!/usr/bin/env sh
# Set everything up (venv, Debian packages, MariaDB) and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/system-deps.sh
echo "test: calibration of the built-in sample against the published facts"
.venv/bin/python scripts/calibrate.py --rows 150000 --seed 1
exec .venv/bin/python -m pytest -q "$@"

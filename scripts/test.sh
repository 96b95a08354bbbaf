#!/usr/bin/env bash
# Set up everything on a fresh machine and run the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k focal
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
. .venv/bin/activate
# --timeout: a hung test (a Dask collective, say) fails instead of stalling CI.
python -m pytest -n "${GBLOSS_TEST_WORKERS:-2}" --timeout=600 "$@"

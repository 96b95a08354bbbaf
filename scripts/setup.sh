#!/usr/bin/env bash
# Create .venv (if needed) and install gbloss with the given dependency groups.
# Usage: scripts/setup.sh [group ...]      e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
# torch is needed by the tests only. The CPU build keeps the set-up small; set
# GBLOSS_TORCH to another requirement (e.g. "torch") to choose differently.
if [ "$#" -gt 0 ]; then
  python -m pip install -q --disable-pip-version-check "${GBLOSS_TORCH:-torch==2.13.0}"
fi
groups=()
for g in "$@"; do groups+=(--group "$g"); done
python -m pip install -q --disable-pip-version-check -e . "${groups[@]}"

#!/usr/bin/env bash
# Create a virtual environment (if needed) and install gbloss, with all its extras, and the
# given dependency groups of pyproject.toml.
# Usage: scripts/setup.sh [group ...]      e.g. scripts/setup.sh test
# Environment:
#   VENV      the environment's folder (default .venv)
#   PYTHON    the interpreter that creates it (default python3)
#   PIP_ARGS  more pip arguments, e.g. "-c ci/floors.txt" or "--upgrade --upgrade-strategy eager"
#   GBLOSS_TORCH  the torch requirement of the groups that need torch (default torch==2.13.0,
#             the CPU build that the CI machines carry on disk; PyPI's Linux torch is a CUDA build)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
. "$VENV/bin/activate"
pip_install() { python -m pip install -q --disable-pip-version-check ${PIP_ARGS:-} "$@"; }
python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
groups=()
for g in "$@"; do
  groups+=(--group "$g")
  case "$g" in test|docs|dev) need_torch=1 ;; esac
done
if [ -n "${need_torch:-}" ]; then
  pip_install "${GBLOSS_TORCH:-torch==2.13.0}"
fi
pip_install -e ".[all]" "${groups[@]}"

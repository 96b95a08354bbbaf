#!/usr/bin/env bash
# Build the HTML documentation (API reference from the docstrings, loss catalogue,
# migration guide, changelog) into docs/_build/html.
# Usage: scripts/docs.sh [extra sphinx-build options], e.g. scripts/docs.sh -W to fail on warnings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh docs
. .venv/bin/activate
python -m sphinx -b html -q --keep-going "$@" docs docs/_build/html
echo "open docs/_build/html/index.html"

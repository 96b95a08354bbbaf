#!/usr/bin/env bash
# Build the HTML documentation (API reference from the docstrings, loss catalogue,
# migration guide, changelog) into docs/_build/html.
# Usage: scripts/docs.sh [extra sphinx-build options]. Math renders offline (MathJax is copied
# into the pages by sphinx-mathjax-offline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh docs
. .venv/bin/activate
# -E -W: a fresh build in which every warning is an error (as in CI)
python -m sphinx -b html -q -E -W --keep-going "$@" docs docs/_build/html
echo "open docs/_build/html/index.html"

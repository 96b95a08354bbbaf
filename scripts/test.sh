#!/usr/bin/env bash
# Set up everything on a fresh machine and run the whole test suite in every configuration
# of the CI matrix (about 15 minutes on 2 cores):
#   lint    ruff and mypy on gbloss/ and tests/                          (Python 3.11)
#   main    the full suite: torch, the peers, the notebooks              (Python 3.11, .venv)
#   floors  the oldest supported versions, ci/floors.txt                 (Python 3.10, .venv-floors)
#   newest  the newest numpy, xgboost, lightgbm, scikit-learn, dask      (Python 3.13, .venv-newest)
#   docs    the Sphinx documentation, warnings as errors                 (Python 3.11)
# Extra arguments go to pytest. GBLOSS_CONFIGS chooses configurations, e.g.
#   GBLOSS_CONFIGS=main scripts/test.sh -k focal
set -uo pipefail
cd "$(dirname "$0")/.."
CONFIGS=${GBLOSS_CONFIGS:-lint main floors newest docs}
WORKERS=${GBLOSS_TEST_WORKERS:-2}

python_for() {  # the interpreter of a minor version: pyenv's, else one on PATH that runs
  local found
  found=$(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/$1".*/bin/python \
          2>/dev/null | sort -V | tail -1)
  if [ -z "$found" ] && command -v "python$1" >/dev/null && "python$1" -c "" 2>/dev/null; then
    found=$(command -v "python$1")
  fi
  [ -n "$found" ] || { echo "no Python $1 found (through pyenv or on PATH)" >&2; return 1; }
  echo "$found"
}

# --timeout: a hung test (a Dask collective, say) fails instead of stalling CI.
pytest_in() { "$1/bin/python" -m pytest -n "$WORKERS" --timeout=600 "${@:2}"; }

run_config() {
  case "$1" in
    lint)
      bash scripts/setup.sh test lint \
        && .venv/bin/ruff check gbloss tests \
        && .venv/bin/mypy gbloss tests ;;
    main)
      bash scripts/setup.sh test && pytest_in .venv "${@:2}" ;;
    floors)
      VENV=.venv-floors PYTHON=$(python_for 3.10) PIP_ARGS="-c ci/floors.txt" \
        bash scripts/setup.sh test-core \
        && .venv-floors/bin/python -m pip check \
        && pytest_in .venv-floors "${@:2}" ;;
    newest)
      VENV=.venv-newest PYTHON=$(python_for 3.13) PIP_ARGS="--upgrade --upgrade-strategy eager" \
        bash scripts/setup.sh test-core \
        && pytest_in .venv-newest "${@:2}" ;;
    docs)
      bash scripts/docs.sh ;;
    *)
      echo "unknown configuration $1 (lint main floors newest docs)" >&2; return 2 ;;
  esac
}

status=0
summary=()
for config in $CONFIGS; do
  echo "=== $config"
  start=$SECONDS
  if run_config "$config" "$@"; then
    summary+=("$config: passed ($((SECONDS - start)) s)")
  else
    summary+=("$config: FAILED ($((SECONDS - start)) s)")
    status=1
  fi
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status

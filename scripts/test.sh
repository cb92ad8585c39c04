#!/usr/bin/env bash
# Run the whole test suite (README command 2): set up what is missing, lint (ruff, the import
# layers, mypy), then every test,
# the slow end-to-end ones (real Whisper, real server, real Chromium) included. Lint problems
# fail the run too, but only after the tests have run.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -m 'not slow'   # extra arguments go to pytest
#   bash scripts/test.sh tests/test_samples.py -x
#
# Environment: VLINDER_WITH_TORCH=0 skips installing the optional openai-whisper engine (torch);
# its tests are then skipped. VLINDER_SKIP_SETUP=1 skips scripts/setup.sh entirely.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VLINDER_VENV:-$PWD/.venv}

if [[ ${VLINDER_SKIP_SETUP:-0} != 1 ]]; then
  VLINDER_WITH_TORCH=${VLINDER_WITH_TORCH:-1} bash scripts/setup.sh --dev
fi

echo "==> ruff check ., lint-imports, mypy pipeline"
lint=0
"$VENV/bin/ruff" check . || lint=$?
"$VENV/bin/lint-imports" --no-cache || lint=$?
"$VENV/bin/mypy" pipeline || lint=$?

echo "==> pytest $*"
status=0
"$VENV/bin/python" -m pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
  # pytest: no tests were collected (e.g. a -k or -m that matches nothing)
  echo "pytest vond geen tests bij deze selectie; dat telt niet als fout."
  status=0
fi
if [[ $lint -ne 0 ]]; then
  echo "ruff, lint-imports of mypy vond problemen (zie boven); de tests zelf gaven code $status." >&2
  [[ $status -ne 0 ]] || status=$lint
fi
exit "$status"

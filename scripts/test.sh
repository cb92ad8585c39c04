#!/usr/bin/env bash
# Run the whole test suite (README command 2): set up what is missing, lint, then every test,
# the slow end-to-end ones (real Whisper, real server, real Chromium) included.
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

echo "==> ruff check ."
"$VENV/bin/ruff" check .

echo "==> pytest $*"
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  # pytest: no tests were collected (e.g. a -k or -m that matches nothing)
  echo "pytest vond geen tests bij deze selectie; dat telt niet als fout."
  status=0
fi
exit "$status"

#!/usr/bin/env bash
# Run the test suite (sets up .venv first when needed).
#
#   bash scripts/test.sh                      everything, in parallel
#   bash scripts/test.sh tests/runtime -x     extra arguments go to pytest
#   bash scripts/test.sh -m packaging         only the packaging test
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "${STC_ROOT}"
exec python -m pytest -n auto --dist loadgroup -q "$@"

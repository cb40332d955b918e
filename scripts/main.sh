#!/usr/bin/env bash
# Set up .venv when needed, then synthesize the example apps and run them
# locally on an embedded moto server (no AWS account, no Docker needed).
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "${STC_ROOT}"
exec python -m scheduled_tasks_constructs.local.cli main "$@"

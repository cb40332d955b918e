#!/usr/bin/env bash
# Set up .venv when needed, then synthesize the example apps and run them
# locally (no AWS account needed).
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "${STC_ROOT}"

if python -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("scheduled_tasks_constructs.local.cli") else 1)' 2>/dev/null; then
  exec python -m scheduled_tasks_constructs.local.cli main "$@"
fi

# TODO(lead): remove this fallback once scheduled_tasks_constructs.local.cli
# has its `main` subcommand; until then only synthesize each example.
echo "main: scheduled_tasks_constructs.local.cli is not available yet; synthesizing the examples only" >&2
shopt -s nullglob
apps=(examples/*/app.py)
if [ "${#apps[@]}" -eq 0 ]; then
  echo "main: no examples/*/app.py found" >&2
  exit 1
fi
for app in "${apps[@]}"; do
  dir="$(dirname "${app}")"
  echo "main: synthesizing ${dir}" >&2
  (cd "${dir}" && python app.py)
done

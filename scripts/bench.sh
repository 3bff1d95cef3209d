#!/usr/bin/env bash
# The delivery benchmark (not a test): its own Temporal dev server, Postgres and receiver; see bench/run.ts for flags.
#   npm run bench -- --visits 200 --updates 5 --concurrency 32 --open-visits 10000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
if [[ -f scripts/ensure-temporal.sh ]]; then
  TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
else
  TEMPORAL_CLI="${TEMPORAL_CLI:-$PWD/.tools/bin/temporal}"
fi
export TEMPORAL_CLI
exec node --import tsx bench/run.ts "$@"

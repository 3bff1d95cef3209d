#!/usr/bin/env bash
# Runs the whole service locally: Temporal dev server (with its UI), Postgres, migrations, worker and HTTP API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
  export TEMPORAL_CLI
fi
exec node --import tsx scripts/stack.ts

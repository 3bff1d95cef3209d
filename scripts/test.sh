#!/usr/bin/env bash
# Every test: typecheck, lint, unit, and integration tests against a real Temporal dev server,
# a real Postgres (DATABASE_URL if set, else embedded) and real HTTP receivers on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
bash scripts/ensure-compose.sh
bash scripts/ensure-chromium.sh
echo "== typecheck" >&2
npx tsc --noEmit
echo "== lint" >&2
npx eslint .
echo "== tests" >&2
mkdir -p .data
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.data/vitest-report.json "$@" || status=$?
# A closing line any CI reads: "N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync(".data/vitest-report.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit "$status"

#!/usr/bin/env bash
# The cluster tier: test/cluster/ against the real Temporal server on Postgres with two workers and two API
# processes (vitest.cluster.config.ts). Builds what it needs: the service (npm run build) and, with Go, the
# Temporal server and its schema tool into .tools/bin (a first build takes a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
command -v go >/dev/null 2>&1 || { echo "test-cluster: Go is needed to build the Temporal server (https://go.dev/dl/)" >&2; exit 1; }
started=$SECONDS
status=0
npx vitest run --config vitest.cluster.config.ts "$@" || status=$?
echo "cluster tier: $((SECONDS - started)) s" >&2
exit "$status"

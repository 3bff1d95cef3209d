#!/usr/bin/env bash
# `npm run cluster`: the production shape on this machine (scripts/cluster.ts). Needs Go to build the Temporal
# server the first time (.tools/bin). The cluster runs in a session of its own, so a Ctrl-C in the terminal
# reaches only this script, which asks the cluster to stop in order (APIs, workers, Temporal, Postgres)
# instead of every process getting the signal at once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
if command -v setsid >/dev/null 2>&1; then
  setsid node --import tsx scripts/cluster.ts &
  pid=$!
  trap 'kill -INT "$pid" 2>/dev/null || true' INT TERM
  status=0
  wait "$pid" || status=$?
  # A trapped signal interrupts the first wait; the second waits for the orderly stop.
  wait "$pid" 2>/dev/null || true
  exit "$status"
fi
exec node --import tsx scripts/cluster.ts

#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked when node_modules is missing or was installed from another
# package-lock.json. Compares the lock file's content (its SHA-256, stamped after each install), not mtimes:
# a fresh checkout's files are all new, and a linked node_modules must not be reinstalled through the link.
set -euo pipefail
cd "$(dirname "$0")/.."
STAMP=node_modules/.ssn-package-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then exit 0; fi
if [ -L node_modules ]; then
  echo "ensure-deps: node_modules is a link and was installed from another lock file; run npm ci where it points" >&2
  exit 1
fi
echo "Installing npm dependencies (npm ci)..." >&2
npm ci --no-audit --no-fund >&2
echo "$want" > "$STAMP"

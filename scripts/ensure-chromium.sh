#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed: test/integration/web-ui.test.ts drives the Temporal Web UI in it
# (through the npm package playwright-core, which downloads no browser of its own).
# Installs Debian's `chromium` package when it is missing (needs root or sudo, and apt-get).
# Silent when it is already there; progress and errors go to stderr. Prints nothing on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] && exit 0
bash scripts/apt-install.sh ensure-chromium chromium "or set CHROMIUM_PATH"
[[ -x "$CHROMIUM" ]] || { log "error: $CHROMIUM still missing after installing chromium"; exit 1; }
log "installed $("$CHROMIUM" --version 2>/dev/null | head -1 || echo chromium)"

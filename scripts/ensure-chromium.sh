#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed: test/integration/web-ui.test.ts drives the Temporal Web UI in it
# (through the npm package playwright-core, which downloads no browser of its own).
# Installs Debian's `chromium` package when it is missing (needs root or sudo, and apt-get).
# Silent when it is already there; progress and errors go to stderr. Prints nothing on stdout.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] && exit 0

command -v apt-get >/dev/null 2>&1 ||
  { log "error: $CHROMIUM is missing and there is no apt-get to install it: install Chromium, or set CHROMIUM_PATH"; exit 1; }

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  log "error: chromium is not installed; run: sudo apt-get install -y chromium"
  exit 1
fi

log "installing Debian's chromium package (apt-get; a few minutes the first time)..."
"${as_root[@]}" apt-get update -qq >&2 || { log "error: apt-get update failed (no access to the Debian package mirror?)"; exit 1; }
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends chromium >&2 ||
  { log "error: apt-get install chromium failed"; exit 1; }
[[ -x "$CHROMIUM" ]] || { log "error: $CHROMIUM still missing after installing chromium"; exit 1; }
log "installed $("$CHROMIUM" --version 2>/dev/null | head -1 || echo chromium)"

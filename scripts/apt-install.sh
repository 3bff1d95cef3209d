#!/usr/bin/env bash
# Installs one Debian package with apt-get, as root or through passwordless sudo, for the ensure-* scripts.
#   bash scripts/apt-install.sh <caller> <package> [what it is for]
# Progress and errors go to stderr, prefixed with the caller's name; exits 1 with a sentence saying what to do.
set -euo pipefail
caller="$1" package="$2" purpose="${3:-}"
log() { printf '%s: %s\n' "$caller" "$*" >&2; }

command -v apt-get >/dev/null 2>&1 ||
  { log "error: $package is not installed and there is no apt-get to install it: install it by hand${purpose:+ ($purpose)}"; exit 1; }
if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  log "error: $package is not installed; run: sudo apt-get install -y $package"
  exit 1
fi
log "installing Debian's $package package (apt-get)..."
"${as_root[@]}" apt-get update -qq >&2 || { log "error: apt-get update failed (no access to the Debian package mirror?)"; exit 1; }
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$package" >&2 ||
  { log "error: apt-get install $package failed"; exit 1; }

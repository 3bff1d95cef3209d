#!/usr/bin/env bash
# Makes sure `docker-compose` is on PATH: test/integration/compose.test.ts runs `docker-compose config`
# to validate docker-compose.yml. Validating needs no Docker engine, only the compose tool.
# Installs Debian's `docker-compose` package when it is missing (needs root or sudo, and apt-get).
# Silent when it is already there; progress and errors go to stderr.
set -euo pipefail

log() { printf 'ensure-compose: %s\n' "$*" >&2; }

command -v docker-compose >/dev/null 2>&1 && exit 0

command -v apt-get >/dev/null 2>&1 ||
  { log "error: docker-compose is not installed and there is no apt-get to install it: install Docker Compose"; exit 1; }

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  log "error: docker-compose is not installed; run: sudo apt-get install -y docker-compose"
  exit 1
fi

log "installing Debian's docker-compose package (apt-get)..."
"${as_root[@]}" apt-get update -qq >&2 || { log "error: apt-get update failed (no access to the Debian package mirror?)"; exit 1; }
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends docker-compose >&2 ||
  { log "error: apt-get install docker-compose failed"; exit 1; }
command -v docker-compose >/dev/null 2>&1 || { log "error: docker-compose still not on PATH after installing it"; exit 1; }
log "installed $(docker-compose version --short 2>/dev/null || echo docker-compose)"

#!/usr/bin/env bash
# Makes sure `docker-compose` is on PATH: test/integration/compose.test.ts runs `docker-compose config`
# to validate docker-compose.yml. Validating needs no Docker engine, only the compose tool.
# Installs Debian's `docker-compose` package when it is missing (needs root or sudo, and apt-get).
# Silent when it is already there; progress and errors go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'ensure-compose: %s\n' "$*" >&2; }

command -v docker-compose >/dev/null 2>&1 && exit 0
bash scripts/apt-install.sh ensure-compose docker-compose "Docker Compose"
command -v docker-compose >/dev/null 2>&1 || { log "error: docker-compose still not on PATH after installing it"; exit 1; }
log "installed $(docker-compose version --short 2>/dev/null || echo docker-compose)"

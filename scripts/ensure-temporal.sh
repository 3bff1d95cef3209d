#!/usr/bin/env bash
# Finds or builds the Temporal CLI (dev server + operator commands) and prints ONLY its absolute
# path on stdout; progress and errors go to stderr.
#
#   TEMPORAL="$(bash scripts/ensure-temporal.sh)" && "$TEMPORAL" server start-dev ...
#
# Order: $TEMPORAL_CLI (must be executable), `temporal` on PATH, <project>/.tools/bin/temporal when it
# is the pinned version, `go install` into .tools/bin, else the release archive via curl.
set -euo pipefail

# The one place the CLI version is pinned. v1.5.1 = server 1.29.1, UI 2.42.1. Releases v1.6.0+ carry a
# `replace` directive in go.mod, so `go install module@version` refuses them (v1.5.0 / v1.4.1 would build).
TEMPORAL_CLI_VERSION="v1.5.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
TARGET="$BIN_DIR/temporal"
WANT="${TEMPORAL_CLI_VERSION#v}"

log() { printf 'ensure-temporal: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

abs_path() { # $1: an existing file
  printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd -P)" "$(basename "$1")"
}

GO="$(command -v go 2>/dev/null || true)"
[[ -z "$GO" && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go

# A `go install` build reports "temporal version 0.0.0-DEV (Server 1.29.1, ...)": the release version is
# set by the release build only. Go reads the module version recorded in any Go binary, so ask it first.
version_of() {
  local v=""
  [[ -n "$GO" ]] && v="$("$GO" version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/temporalio/cli" { print $3 }')"
  [[ -z "$v" ]] && v="$("$1" --version 2>/dev/null | sed -n 's/^temporal version \([^ ]*\).*/\1/p' | head -n1)"
  printf '%s\n' "${v#v}"
}

# Without Go a source build's version cannot be told; take it rather than fail on a working binary.
is_wanted() {
  local v
  v="$(version_of "$1")"
  [[ "$v" == "$WANT" || ("$v" == "0.0.0-DEV" && -z "$GO") ]]
}

# 1. An explicit choice wins, and a wrong one is an error rather than a silent fallback.
if [[ -n "${TEMPORAL_CLI:-}" ]]; then
  [[ -f "$TEMPORAL_CLI" && -x "$TEMPORAL_CLI" ]] || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file"
  abs_path "$TEMPORAL_CLI"
  exit 0
fi

# 2. One on PATH (a developer's own install). Other versions work but may differ from CI's.
if on_path="$(command -v temporal 2>/dev/null)" && [[ -n "$on_path" ]]; then
  is_wanted "$on_path" || log "warning: using $on_path (version $(version_of "$on_path")); the project pins $WANT"
  abs_path "$on_path"
  exit 0
fi

# 3. Built before by this script, and still the pinned version.
if [[ -x "$TARGET" ]]; then
  if is_wanted "$TARGET"; then
    printf '%s\n' "$TARGET"
    exit 0
  fi
  log "$TARGET is version $(version_of "$TARGET"), not $WANT: replacing it"
fi

mkdir -p "$BIN_DIR"
failures=()
# Build or unpack into a scratch folder beside the target, then rename: a concurrent run (or a dev
# server already running from $TARGET) never sees a half-written file.
tmp="$(mktemp -d "$BIN_DIR/.partial.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# 4. Build from source with Go (through the Go module proxy).
if [[ -n "$GO" ]]; then
  log "building the Temporal CLI $TEMPORAL_CLI_VERSION with $GO into $BIN_DIR (the first build takes several minutes; later ones use Go's build cache)"
  if GOBIN="$tmp" "$GO" install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >&2; then
    mv -f "$tmp/temporal" "$TARGET"
    is_wanted "$TARGET" || die "go install finished but $TARGET does not report version $WANT"
    printf '%s\n' "$TARGET"
    exit 0
  fi
  failures+=("go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION failed (is the Go module proxy reachable? see GOPROXY)")
else
  failures+=("Go is not installed (no 'go' on PATH or in /usr/local/go/bin)")
fi

# 5. The release archive, from the same address the SDK's test server download uses.
case "$(uname -s)" in
  Linux) platform=linux ;;
  Darwin) platform=darwin ;;
  *) die "unsupported OS $(uname -s); set TEMPORAL_CLI to a temporal binary. Tried: ${failures[*]}" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported CPU $(uname -m); set TEMPORAL_CLI to a temporal binary. Tried: ${failures[*]}" ;;
esac
url="https://temporal.download/cli/archive/${TEMPORAL_CLI_VERSION}?platform=${platform}&arch=${arch}"

if ! command -v curl >/dev/null 2>&1; then
  failures+=("curl is not installed, so the release archive cannot be downloaded")
  printf -v tried '\n  - %s' "${failures[@]}"
  die "cannot get the Temporal CLI $TEMPORAL_CLI_VERSION. Install Go (preferred) or curl, or set TEMPORAL_CLI. Tried:$tried"
fi

log "downloading $url"
if ! curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 -o "$tmp/cli.tar.gz" "$url" >&2; then
  failures+=("download of $url failed (no network access to it?)")
  printf -v tried '\n  - %s' "${failures[@]}"
  die "cannot get the Temporal CLI $TEMPORAL_CLI_VERSION. Set TEMPORAL_CLI to a temporal binary. Tried:$tried"
fi
tar -xzf "$tmp/cli.tar.gz" -C "$tmp" || die "$url did not give a readable tar.gz archive"
found="$(find "$tmp" -type f -name temporal | head -n1)"
[[ -n "$found" ]] || die "the archive from $url has no 'temporal' binary"
chmod 0755 "$found"
mv -f "$found" "$TARGET"
is_wanted "$TARGET" || die "the downloaded $TARGET does not report version $WANT"
printf '%s\n' "$TARGET"

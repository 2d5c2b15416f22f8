#!/usr/bin/env bash
# Builds Kubernetes' gopherage (the reference implementation covlens is
# compared against) from the Go module proxy and caches it in
# $REPO/.tools/bin/gopherage (override the directory with GOPHERAGE_BIN_DIR).
#
# `go install k8s.io/test-infra/gopherage@latest` does not work through the
# proxy available here (it refuses `@latest` listings), so a pinned
# pseudo-version is required through a throw-away module.
#
# Idempotent: does nothing when a working binary is already there.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${GOPHERAGE_BIN_DIR:-$REPO/.tools/bin}"
DEST="$BIN_DIR/gopherage"
# kubernetes/test-infra, 2025-03-29.
TEST_INFRA_VERSION="${GOPHERAGE_VERSION:-v0.0.0-20250329100633-7758a586d30c}"

if [[ -x "$DEST" ]] && "$DEST" --help >/dev/null 2>&1; then
    echo "install-gopherage: $DEST already present and working; nothing to do"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "install-gopherage: the Go toolchain ('go') is not on PATH" >&2
    exit 1
fi

echo "install-gopherage: building k8s.io/test-infra/gopherage@$TEST_INFRA_VERSION with $(go version)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/go.mod" <<MOD
module gopw

go 1.26

require k8s.io/test-infra $TEST_INFRA_VERSION
MOD

mkdir -p "$BIN_DIR"
(
    cd "$WORK"
    # Build to a temporary name first so an interrupted build never leaves a
    # broken binary at $DEST.
    GOFLAGS="${GOFLAGS:-} -mod=mod" go build -o "$WORK/gopherage" k8s.io/test-infra/gopherage
)
mv -f "$WORK/gopherage" "$DEST"

if ! "$DEST" --help >/dev/null 2>&1; then
    echo "install-gopherage: $DEST was built but '--help' fails" >&2
    exit 1
fi
echo "install-gopherage: installed $DEST"

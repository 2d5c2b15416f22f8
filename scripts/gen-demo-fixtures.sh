#!/usr/bin/env bash
# Regenerates fixtures/demo/: one count-mode profile per test binary of
# fixtures/goprog, each covering every package (-coverpkg=./...), as the
# components of an e2e job each write one; and fixtures/ignoreprog/cover.out,
# the profile of the package whose code `// coverage-ignore` comments mark.
# Made by the real Go toolchain; committed so the demo runs without Go.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$PWD/fixtures/demo"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -r fixtures/goprog "$WORK/src"
mkdir -p "$OUT"
rm -f "$OUT"/*.out
cd "$WORK/src"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
for pkg in $(go list ./... ); do
    rel="${pkg#example.com/goprog}"
    rel="${rel#/}"
    name="$(echo "${rel:-root}" | tr '/' '-')"
    if [[ -z "$(go list -f '{{join .TestGoFiles ""}}{{join .XTestGoFiles ""}}' "$pkg")" ]]; then
        continue
    fi
    go test -count=1 -covermode=count -coverpkg=./... -coverprofile="$OUT/$name.out" "$pkg" >/dev/null
done
ls -l "$OUT"
cd "$OUT/../ignoreprog"
go test -count=1 -coverprofile=cover.out . >/dev/null
ls -l cover.out

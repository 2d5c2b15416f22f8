#!/usr/bin/env bash
# Regenerates fixtures/funcdelta/{base,head}.out and pr.diff: the profiles
# `go test -coverprofile` writes for the module's two states, and the diff
# `git diff` writes between them. Made by the real Go toolchain and git;
# committed so the reporter's tests run without them.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$PWD/fixtures/funcdelta"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export GOTOOLCHAIN=local GOFLAGS= GOWORK=off
cp -r "$OUT/base/." "$WORK/"
cd "$WORK"
git init -q
git add .
git -c user.name=fixture -c user.email=fixture@example.com commit -q -m base
go test -count=1 -coverprofile="$OUT/base.out" ./... >/dev/null
cp -r "$OUT/head/." "$WORK/"
git diff >"$OUT/pr.diff"
go test -count=1 -coverprofile="$OUT/head.out" ./... >/dev/null
ls -l "$OUT"/*.out "$OUT/pr.diff"

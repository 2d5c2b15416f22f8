#!/usr/bin/env bash
# Generates real Go coverage profiles from fixtures/goprog with the Go
# toolchain, for covlens' compatibility tests (cli/tests/compat.rs).
#
#   scripts/gen-fixtures.sh OUTDIR
#
# Layout of OUTDIR (all text profiles; "count" unless the name says otherwise):
#   {set,count,atomic}.out            go test -covermode=M ./...
#   {set,count,atomic}-coverpkg.out   ... -coverpkg=./... (the same blocks
#                                     repeated once per test binary)
#   pkg/{set,count,atomic}/NAME.out   one `go test` per package (NAME is the
#                                     package path with / replaced by _)
#   subset/{set,count}-basic.out      only the TestBasic* tests: a "before"
#                                     for count.out / set.out (after >= before)
#   prog/{before,after,restart}.out   a `go build -cover` goprog: before = run
#                                     1; after = runs 1+2 (cumulative counters);
#                                     restart = run 2 alone (counters reset, so
#                                     some counts go down from before)
#   modified/count-shift.out          ./... with calc.Add made two lines longer
#                                     (same block count, shifted blocks)
#   modified/count-block.out          ./... with one more `if` block in calc.Div
#
# Profiles are produced fresh each time; nothing here is committed. Only Go's
# own behaviour (test binary completion order, map order inside the test
# binaries) varies between runs, and gopherage/covlens sort that away.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO/fixtures/goprog"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"

# Never download a toolchain or modules: goprog is stdlib-only.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" GOPROXY=off

command -v go >/dev/null || { echo "gen-fixtures: 'go' is not on PATH" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Work on a copy so the source tree stays clean and the paths are the same
# for the original and the modified source.
cp -R "$SRC" "$WORK/goprog"
cd "$WORK/goprog"

log() { echo "gen-fixtures: $*" >&2; }

gotest() { # gotest OUTFILE ARGS...
    local out="$1"
    shift
    log "go test $* -> ${out#"$OUT"/}"
    go test -count=1 "$@" -coverprofile="$out" >"$WORK/go-test.log" 2>&1 || {
        cat "$WORK/go-test.log" >&2
        return 1
    }
}

for mode in set count atomic; do
    gotest "$OUT/$mode.out" -covermode="$mode" ./...
    gotest "$OUT/$mode-coverpkg.out" -covermode="$mode" -coverpkg=./... ./...
done

mapfile -t PKGS < <(go list ./...)
for mode in set count atomic; do
    mkdir -p "$OUT/pkg/$mode"
    for pkg in "${PKGS[@]}"; do
        rel="${pkg#example.com/goprog}"
        rel="${rel#/}"
        name="${rel:-root}"
        name="${name//\//_}"
        gotest "$OUT/pkg/$mode/$name.out" -covermode="$mode" "./$rel"
    done
done

mkdir -p "$OUT/subset"
for mode in set count; do
    gotest "$OUT/subset/$mode-basic.out" -covermode="$mode" -run '^TestBasic' ./...
done

# A coverage-instrumented program run twice (GOCOVERDIR + covdata textfmt),
# like the e2e jobs' before/after snapshots.
mkdir -p "$OUT/prog" "$WORK/run1" "$WORK/run2"
log "go build -cover -covermode=count -coverpkg=./... ./cmd/goprog"
go build -cover -covermode=count -coverpkg=./... -o "$WORK/goprog.bin" ./cmd/goprog
run() { # run DIR ARGS...
    local dir="$1"
    shift
    GOCOVERDIR="$dir" "$WORK/goprog.bin" "$@" >/dev/null
}
run "$WORK/run1" add 1 2 3
run "$WORK/run1" fact 5
run "$WORK/run1" classify -1 0 7 8
run "$WORK/run2" mul 3 4
run "$WORK/run2" stats 5 1 4
run "$WORK/run2" classify 2
run "$WORK/run2" reverse abc
log "go tool covdata textfmt -> prog/{before,after,restart}.out"
go tool covdata textfmt -i="$WORK/run1" -o "$OUT/prog/before.out"
go tool covdata textfmt -i="$WORK/run1,$WORK/run2" -o "$OUT/prog/after.out"
go tool covdata textfmt -i="$WORK/run2" -o "$OUT/prog/restart.out"

# Modified sources: merging these with count.out must fail (gopherage has no
# reconciliation of different source versions).
mkdir -p "$OUT/modified"
cp calc/calc.go "$WORK/calc.go.orig"
sed -i 's|^\treturn a + b // EDIT-ME-SHIFT$|\tsum := a + b\n\t_ = sum\n\treturn sum|' calc/calc.go
grep -q 'sum := a + b' calc/calc.go || { log "EDIT-ME-SHIFT marker not found"; exit 1; }
gotest "$OUT/modified/count-shift.out" -covermode=count ./...
cp "$WORK/calc.go.orig" calc/calc.go
sed -i 's|^\tif b == 0 { // EDIT-ME-BLOCK$|\tif a == b \&\& b != 0 {\n\t\treturn 1, nil\n\t}\n&|' calc/calc.go
grep -q 'if a == b' calc/calc.go || { log "EDIT-ME-BLOCK marker not found"; exit 1; }
gotest "$OUT/modified/count-block.out" -covermode=count ./...
cp "$WORK/calc.go.orig" calc/calc.go

log "done: $OUT"

#!/usr/bin/env bash
# covlens against `go tool covdata` on a large real GOCOVERDIR, both tools
# in one run, warm. Prints wall time and peak memory of textfmt, percent and
# merge for both tools with the ratios, checks the outputs agree, and writes
# the table as Markdown to ${OUT:-target/bench-covdata.md}.
#
# Workloads (WORKLOAD=...):
#   covprog  a -cover build of fixtures/covprog instrumenting every package
#            it links (-coverpkg=all, about 40,000 coverage units), run RUNS
#            times (default 1000): many small counter files.
#   cmdgo    cmd/go built from the local toolchain's own sources with
#            -cover -covermode=count -coverpkg=all (about 100,000 units, a
#            1.2 MB meta-data file), run RUNS times (default 60: `go
#            version`, `go env`, `go list std` in turn): few, large counter
#            files. Building it takes a few minutes; cached under target/.
# REPEAT=5 runs per tool and command; STAT=best (default) or median.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
WORKLOAD="${WORKLOAD:-covprog}"
case "$WORKLOAD" in
covprog) RUNS="${RUNS:-1000}" ;;
cmdgo) RUNS="${RUNS:-60}" ;;
*) echo "covdata-compare: WORKLOAD must be covprog or cmdgo" >&2; exit 1 ;;
esac
REPEAT="${REPEAT:-5}"
STAT="${STAT:-best}"
DATA="${BENCH_DIR:-target/bench-data}/covdata-$WORKLOAD-$RUNS"
[[ "$WORKLOAD" == covprog ]] && DATA="${BENCH_DIR:-target/bench-data}/covdata-$RUNS"
OUT="${OUT:-target/bench-covdata.md}"
export GOTOOLCHAIN=local

cargo build --release -q -p covlens-cli
BIN="$REPO/target/release/covlens"
[[ -x /usr/bin/time ]] || { echo "covdata-compare: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

if [[ ! -f "$DATA/.done" ]]; then
    rm -rf "$DATA" && mkdir -p "$DATA/dir"
    if [[ "$WORKLOAD" == covprog ]]; then
        echo "covdata-compare: building fixtures/covprog with -cover -coverpkg=all and running it $RUNS times"
        (cd fixtures/covprog && go build -cover -covermode=count -coverpkg=all -o "$REPO/$DATA/covprog" ./cmd/covprog)
        for i in $(seq 1 "$RUNS"); do
            GOCOVERDIR="$DATA/dir" "$DATA/covprog" shapes text "calc:$i" >/dev/null
        done
    else
        echo "covdata-compare: building cmd/go with -cover -coverpkg=all and running it $RUNS times"
        (cd "$(go env GOROOT)/src/cmd/go" &&
            GOFLAGS=-mod=vendor go build -cover -covermode=count -coverpkg=all -o "$REPO/$DATA/go" .)
        cmds=("version" "env" "list std")
        for i in $(seq 1 "$RUNS"); do
            # shellcheck disable=SC2086 # "list std" is two arguments
            GOCOVERDIR="$DATA/dir" "$DATA/go" ${cmds[$((i % 3))]} >/dev/null
        done
    fi
    touch "$DATA/.done"
fi
echo "covdata-compare: $(ls "$DATA/dir" | wc -l) files, $(du -sh "$DATA/dir" | cut -f1) in $DATA/dir"

T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT

# Wall time (s; the best or the median, see STAT) and max RSS (MB) of
# REPEAT runs of CMD..., its stdout into OUT. FRESH, when set, is a
# directory made empty before each run, untimed. The clock is the shell's ($EPOCHREALTIME) around the
# tool under /usr/bin/time: no process is started for the clock or a shell,
# so the fixed cost a run carries is small (these runs take 20-300 ms) and
# the same for both tools.
measure() {
    local out="$1" walls=() rss=0 t0 t1 m
    shift
    for _ in $(seq 1 "$REPEAT"); do
        if [[ -n "${FRESH:-}" ]]; then rm -rf "$FRESH" && mkdir "$FRESH"; fi
        t0=$EPOCHREALTIME
        /usr/bin/time -o "$T/rss" -f '%M' "$@" >"$out" 2>"$T/err" ||
            { cat "$T/err" >&2; echo "covdata-compare: failed: $*" >&2; exit 1; }
        t1=$EPOCHREALTIME
        m=$(tail -1 "$T/rss")
        walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
        if (( m > rss )); then rss=$m; fi
    done
    local pick=1
    [[ "$STAT" == median ]] && pick=$(( (REPEAT + 1) / 2 ))
    printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "${pick}p")" "$((rss / 1024))"
}

# run_case NAME: OURS and THEIRS (arrays) are the two command lines, their
# stdout going to $T/c.out and $T/g.out; OURS_DIR and THEIRS_DIR, when set,
# are their output directories, made empty before each run.
rows=()
run_case() {
    local name="$1" cw cm gw gm
    read -r cw cm < <(FRESH="${OURS_DIR:-}" measure "$T/c.out" "${OURS[@]}")
    read -r gw gm < <(FRESH="${THEIRS_DIR:-}" measure "$T/g.out" "${THEIRS[@]}")
    rows+=("| $name | ${cw} s | ${gw} s | $(echo "scale=1; $gw / $cw" | bc -l)x | ${cm} MB | ${gm} MB |")
    echo "covdata-compare: $name: covlens $cw s $cm MB, go $gw s $gm MB" >&2
}
GO="$(command -v go)"
OURS=("$BIN" covdata textfmt -i "$DATA/dir" -o "$T/c.txt")
THEIRS=("$GO" tool covdata textfmt -i="$DATA/dir" -o="$T/g.txt")
run_case textfmt
cmp "$T/c.txt" "$T/g.txt" || { echo "covdata-compare: textfmt outputs differ" >&2; exit 1; }
OURS=("$BIN" covdata percent -i "$DATA/dir")
THEIRS=("$GO" tool covdata percent -i="$DATA/dir")
run_case percent
cmp "$T/c.out" "$T/g.out" || { echo "covdata-compare: percent outputs differ" >&2; exit 1; }
OURS=("$BIN" covdata merge -i "$DATA/dir" -o "$T/cm") OURS_DIR="$T/cm"
THEIRS=("$GO" tool covdata merge -i="$DATA/dir" -o="$T/gm") THEIRS_DIR="$T/gm"
run_case merge
"$GO" tool covdata textfmt -i="$T/cm" -o="$T/cm.txt"
"$GO" tool covdata textfmt -i="$T/gm" -o="$T/gm.txt"
cmp "$T/cm.txt" "$T/gm.txt" || { echo "covdata-compare: merged directories read differently" >&2; exit 1; }

{
    echo "| covdata command | covlens | go tool covdata | speed-up | covlens peak | go peak |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "$WORKLOAD: $(ls "$DATA/dir" | wc -l) files ($(du -sh "$DATA/dir" | cut -f1)), $STAT of $REPEAT runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); outputs identical."
} | tee "$OUT"

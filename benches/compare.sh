#!/usr/bin/env bash
# Whole-command comparison of covlens with gopherage on Kubernetes-scale
# synthetic profiles: wall time and peak RSS per command, plus a check that
# both tools write the same output.
#
#   benches/compare.sh
#
# Environment (all optional):
#   RUNS=3                 timed runs per tool and case, alternating
#   STAT=median            what is shown of them: median, or best (the
#                          shortest wall time and the smallest peak RSS:
#                          on a shared machine, the least disturbed run)
#   FILES=20000 BLOCKS=50  profile size (20000 x 50 = 1M blocks, ~68 MB, as in
#                          gopherage's published baseline); FILES=2000 for a
#                          quick try
#   BENCH_DIR=target/bench-data   cached inputs and the last outputs
#   OUT=target/bench-compare.md   the table as Markdown
#   GOPHERAGE=/path/to/gopherage  else $REPO/.tools/bin/gopherage, else
#                          gopherage on PATH, else scripts/install-gopherage.sh
#   COVLENS=/path/to/covlens      skip `cargo build --release -p covlens-cli`
#   ONLY="merge5 merge5-pipe"     only these cases
#   GENERATOR=script.py    else benches/gen-synthetic-profile.py (the inputs
#                          of docs/performance.md); benches/gen-splitmix-profile.py
#                          makes the criterion benchmarks' inputs instead
# Relative paths are taken from the repository root.
#
# Needs bash 5, python3 and GNU time (/usr/bin/time; Debian package `time`).
# Nothing is downloaded, except that a missing gopherage is built with
# scripts/install-gopherage.sh (the Go module proxy).
#
# Wall time is measured with bash's $EPOCHREALTIME (microseconds) around the
# command; peak RSS is GNU time's %M (`/usr/bin/time -f '%e %M'`), whose %e
# only has 10 ms resolution. Inputs are read once beforehand so that every
# timed run finds them in the page cache.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

RUNS="${RUNS:-3}"
STAT="${STAT:-median}"
FILES="${FILES:-20000}"
BLOCKS="${BLOCKS:-50}"
BENCH_DIR="${BENCH_DIR:-target/bench-data}"
OUT="${OUT:-target/bench-compare.md}"
K8S_EXCLUDES='zz_generated,third_party/,cmd/,\.pb\.go'

die() {
    echo "compare.sh: $*" >&2
    exit 1
}
log() { echo "compare.sh: $*" >&2; }

[[ -n "${EPOCHREALTIME:-}" ]] || die "needs bash 5 (\$EPOCHREALTIME)"
[[ -x /usr/bin/time ]] || die "GNU time is missing: apt-get install time"
command -v python3 >/dev/null || die "python3 is missing"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

# --- covlens -----------------------------------------------------------------
if [[ -n "${COVLENS:-}" ]]; then
    [[ -x "$COVLENS" ]] || die "COVLENS=$COVLENS is not executable"
else
    log "building covlens (cargo build --release -p covlens-cli)"
    cargo build --release -p covlens-cli >&2
    COVLENS="${CARGO_TARGET_DIR:-$REPO/target}/release/covlens"
fi

# --- gopherage ---------------------------------------------------------------
find_gopherage() {
    if [[ -n "${GOPHERAGE:-}" ]]; then
        [[ -x "$GOPHERAGE" ]] || die "GOPHERAGE=$GOPHERAGE is not executable"
        return
    fi
    local local_bin="${GOPHERAGE_BIN_DIR:-$REPO/.tools/bin}/gopherage"
    if [[ -x "$local_bin" ]]; then
        GOPHERAGE="$local_bin"
    elif command -v gopherage >/dev/null 2>&1; then
        GOPHERAGE="$(command -v gopherage)"
    elif [[ -f "$REPO/scripts/install-gopherage.sh" ]]; then
        log "gopherage not found; building it with scripts/install-gopherage.sh"
        bash "$REPO/scripts/install-gopherage.sh" >&2 || die "scripts/install-gopherage.sh failed"
        [[ -x "$local_bin" ]] || die "scripts/install-gopherage.sh did not produce $local_bin"
        GOPHERAGE="$local_bin"
    else
        die "gopherage not found: set GOPHERAGE=/path/to/gopherage"
    fi
}
find_gopherage

# --- inputs ------------------------------------------------------------------
GENERATOR="${GENERATOR:-benches/gen-synthetic-profile.py}"
[[ -f "$GENERATOR" ]] || die "generator $GENERATOR not found"
# The cache is keyed by generator: they write the same shape, not the same bytes.
case "$(realpath "$GENERATOR")" in
"$REPO/benches/gen-synthetic-profile.py") GEN_TAG=random ;;
"$REPO/benches/gen-splitmix-profile.py") GEN_TAG=splitmix ;;
*) GEN_TAG="custom-$(cksum <"$GENERATOR" | cut -d' ' -f1)" ;;
esac

mkdir -p "$BENCH_DIR"
PREFIX="$BENCH_DIR/$GEN_TAG-${FILES}x${BLOCKS}"
IN=()
for seed in 1 2 3 4 5; do
    f="$PREFIX-seed$seed.out"
    if [[ ! -s "$f" ]]; then
        log "generating $f"
        python3 "$GENERATOR" "$FILES" "$BLOCKS" "$seed" "$f.tmp"
        mv -f "$f.tmp" "$f"
    fi
    IN+=("$f")
done
# diff assumes every count went up: after = before + another run.
AFTER="$PREFIX-after-seed1+2.out"
if [[ ! -s "$AFTER" ]]; then
    log "making $AFTER (merge of seeds 1 and 2)"
    "$COVLENS" merge "${IN[0]}" "${IN[1]}" -o "$AFTER.tmp"
    mv -f "$AFTER.tmp" "$AFTER"
fi
# Many small inputs, as in an e2e job with one profile per component and
# node: the first profile split into 300 per-directory profiles (subNNN).
SPLIT="$PREFIX-split300"
if [[ ! -f "$SPLIT/.done" ]]; then
    log "splitting ${IN[0]} into 300 per-directory profiles in $SPLIT"
    rm -rf "$SPLIT" && mkdir -p "$SPLIT"
    python3 - "${IN[0]}" "$SPLIT" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
parts = {}
with open(src) as f:
    mode = f.readline()
    for line in f:
        parts.setdefault(line.split("/", 4)[3], []).append(line)
for d, lines in parts.items():
    with open(f"{out}/{d}.out", "w") as o:
        o.write(mode)
        o.writelines(lines)
PY
    touch "$SPLIT/.done"
fi
SMALL=("$SPLIT"/*.out)
cat "${IN[@]}" "$AFTER" "${SMALL[@]}" >/dev/null

WORK="$BENCH_DIR/run"
rm -rf "$WORK"
mkdir -p "$WORK"

# --- cases -------------------------------------------------------------------
# Each case has a label, a way to take the output (-o FILE unless SINK says
# pipe: stdout | cat > FILE), a way to compare the outputs (byte for byte
# unless CHECK says otherwise) and its arguments (set_args).
CASES=(merge5 merge5-pipe aggregate5 diff2 filter1 junit1 merge300)
# CASES="merge5 merge5-pipe" to time only some.
if [[ -n "${ONLY:-}" ]]; then read -r -a CASES <<<"$ONLY"; fi
declare -A LABEL=(
    [merge5]="merge of 5 (-o file)"
    [merge5-pipe]="merge of 5 (to a pipe)"
    [aggregate5]="aggregate of 5"
    [diff2]="diff of 2"
    [filter1]="filter of 1 (k8s excludes)"
    [junit1]="junit of 1"
    [merge300]="merge of 300 small"
)
declare -A SINK=([merge5-pipe]=pipe)
declare -A CHECK=([junit1]=junit)
# set_args CASE: the command's arguments (after the program) into ARGS.
set_args() {
    case "$1" in
    merge5 | merge5-pipe) ARGS=(merge "${IN[@]}") ;;
    aggregate5) ARGS=(aggregate "${IN[@]}") ;;
    diff2) ARGS=(diff "${IN[0]}" "$AFTER") ;;
    filter1) ARGS=(filter "${IN[0]}" "--exclude-path=$K8S_EXCLUDES") ;;
    junit1) ARGS=(junit "${IN[0]}") ;;
    merge300) ARGS=(merge "${SMALL[@]}") ;;
    *) die "unknown case $1" ;;
    esac
}

# measure CASE TOOL BIN: one timed run; appends "wall_s rss_kb" to $WORK/CASE.TOOL.
measure() {
    local case="$1" tool="$2" bin="$3"
    local out="$WORK/$case.$tool.out" err="$WORK/$case.$tool.err" tf="$WORK/time.txt"
    set_args "$case"
    local t0 t1 status=0
    t0=$EPOCHREALTIME
    if [[ "${SINK[$case]:-file}" == pipe ]]; then
        /usr/bin/time -f '%e %M %U %S' -o "$tf" "$bin" "${ARGS[@]}" 2>"$err" | cat >"$out" || status=$?
    else
        /usr/bin/time -f '%e %M %U %S' -o "$tf" "$bin" "${ARGS[@]}" -o "$out" 2>"$err" || status=$?
    fi
    t1=$EPOCHREALTIME
    if [[ $status -ne 0 ]]; then
        cat "$err" >&2
        die "$tool failed (exit $status): $bin ${ARGS[*]}"
    fi
    local rss cpu
    rss="$(tail -n 1 "$tf" | awk '{print $2}')"
    cpu="$(tail -n 1 "$tf" | awk '{print $3 + $4}')"
    awk -v a="$t0" -v b="$t1" -v r="$rss" -v c="$cpu" 'BEGIN { printf "%.6f %d %.2f\n", b - a, r, c }' >>"$WORK/$case.$tool"
}

# stat COLUMN FILE: the median or the best (smallest) value, per STAT
stat() {
    if [[ "$STAT" == best ]]; then
        awk -v c="$1" '{ print $c }' "$2" | sort -g | head -n 1
    else
        median "$1" "$2"
    fi
}

# median COLUMN FILE
median() {
    awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# JUnit from gopherage lists directories in Go map order, which changes
# from run to run: compare the test cases as a set.
junit_cases() {
    python3 -c '
import re, sys
xml = open(sys.argv[1]).read()
print("\n".join(sorted(re.findall(r"<testcase\b.*?</testcase>", xml, re.S))))' "$1"
}

verify() {
    local case="$1" a="$WORK/$1.covlens.out" b="$WORK/$1.gopherage.out"
    if cmp -s "$a" "$b"; then
        echo "identical"
    elif [[ "${CHECK[$case]:-exact}" == junit ]] && cmp -s <(junit_cases "$a") <(junit_cases "$b"); then
        echo "same test cases"
    else
        echo "DIFFERENT"
    fi
}

log "covlens:   $COVLENS ($("$COVLENS" --version 2>/dev/null || echo '?'))"
log "gopherage: $GOPHERAGE"
log "inputs:    5 x $(wc -c <"${IN[0]}") bytes ($FILES files x $BLOCKS blocks, generator $GENERATOR)"
log "runs:      $RUNS per tool and case"

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
declare -A RES
mismatch=0
for case in "${CASES[@]}"; do
    log "${LABEL[$case]}"
    for ((i = 1; i <= RUNS; i++)); do
        measure "$case" covlens "$COVLENS"
        measure "$case" gopherage "$GOPHERAGE"
    done
    RES[$case.cw]="$(stat 1 "$WORK/$case.covlens")"
    RES[$case.gw]="$(stat 1 "$WORK/$case.gopherage")"
    RES[$case.cm]="$(stat 2 "$WORK/$case.covlens")"
    RES[$case.gm]="$(stat 2 "$WORK/$case.gopherage")"
    RES[$case.cc]="$(stat 3 "$WORK/$case.covlens")"
    RES[$case.gc]="$(stat 3 "$WORK/$case.gopherage")"
    RES[$case.ok]="$(verify "$case")"
    [[ "${RES[$case.ok]}" == DIFFERENT ]] && mismatch=1
    log "  covlens ${RES[$case.cw]} s ${RES[$case.cm]} KB ${RES[$case.cc]} s CPU | gopherage ${RES[$case.gw]} s ${RES[$case.gm]} KB ${RES[$case.gc]} s CPU | ${RES[$case.ok]}"
done

# --- report ------------------------------------------------------------------
row() { # case -> "label|cw|gw|speedup|cm|gm|ratio|cc|gc|cpu ratio|output"
    local c="$1"
    awk -v l="${LABEL[$c]}" -v cw="${RES[$c.cw]}" -v gw="${RES[$c.gw]}" \
        -v cm="${RES[$c.cm]}" -v gm="${RES[$c.gm]}" -v ok="${RES[$c.ok]}" \
        -v cc="${RES[$c.cc]}" -v gc="${RES[$c.gc]}" 'BEGIN {
        printf "%s|%.3f s|%.3f s|%.1fx|%.0f|%.0f|%.1fx|%.2f s|%.2f s|%.1fx|%s\n",
            l, cw, gw, (cw > 0 ? gw / cw : 0), cm / 1024, gm / 1024, (cm > 0 ? gm / cm : 0),
            cc, gc, (cc > 0 ? gc / cc : 0), ok }'
}
# CPU = user + system time: on a shared machine, what a run cost whatever
# the others did.
HEADER="case|covlens wall ($STAT)|gopherage wall ($STAT)|speed-up|covlens peak MB|gopherage peak MB|memory ratio|covlens CPU|gopherage CPU|CPU ratio|output"
ROWS=()
for case in "${CASES[@]}"; do ROWS+=("$(row "$case")"); done

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
MB="$(awk -v b="$(wc -c <"${IN[0]}")" 'BEGIN { printf "%.1f", b / 1e6 }')"
DESC="$FILES files x $BLOCKS blocks per profile ($MB MB each, generator: $GEN_TAG), $STAT of $RUNS runs, $(nproc) CPUs${cpu:+ ($cpu)}, load average $LOAD_START at the start, $(date -u +%Y-%m-%d)"

{
    echo
    echo "$DESC"
    echo
    printf '%s\n' "$HEADER" "${ROWS[@]}" | column -t -s '|' -o ' | '
}

mkdir -p "$(dirname "$OUT")"
{
    echo "# covlens vs gopherage"
    echo
    echo "$DESC."
    echo
    echo "- covlens: \`$("$COVLENS" --version 2>/dev/null || echo covlens)\`"
    echo "- gopherage: \`$GOPHERAGE\`"
    echo "- command: \`RUNS=$RUNS STAT=$STAT FILES=$FILES BLOCKS=$BLOCKS benches/compare.sh\`"
    echo "- speed-up = gopherage wall / covlens wall; memory ratio = gopherage peak RSS / covlens peak RSS"
    echo
    echo "| ${HEADER//|/ | } |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
    echo
    echo "Every run (wall s / peak MB), to judge the noise:"
    echo
    for case in "${CASES[@]}"; do
        for tool in covlens gopherage; do
            printf -- '- %s, %s: %s\n' "${LABEL[$case]}" "$tool" \
                "$(awk '{ printf "%s%.3f / %.0f", (NR > 1 ? ", " : ""), $1, $2 / 1024 }' "$WORK/$case.$tool")"
        done
    done
} >"$OUT"
log "wrote $OUT"

if [[ $mismatch -ne 0 ]]; then
    die "outputs differ for some case; see $WORK/*.out"
fi

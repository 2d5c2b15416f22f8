#!/usr/bin/env bash
# Merging text profiles straight from an object store: COUNT objects of
# about 40 MB, listed with a pattern and streamed over HTTP from gofakes3 (an
# S3 emulator) into `covlens merge`, against the same merge of local files.
#
#   benches/objects.sh
#
# The store is benches/s3alias: gofakes3's own server and memory backend,
# where the COUNT keys logs/e2e/1/artifacts/node-NNNN.cov read as DISTINCT
# stored profiles in turn, so that a thousand 40 MB objects need 400 MB of
# memory, not 40 GB. Every byte still goes through gofakes3's HTTP handler.
#
# Environment (all optional):
#   COUNT=1000 DISTINCT=10   objects, and distinct profiles behind them
#   FILES=12000 BLOCKS=50    profile size (600k blocks, ~41 MB each)
#   RUNS=1                   timed runs (the best is shown)
#   BENCH_DIR=target/bench-data   cached inputs
#   COVLENS=/path/to/covlens skip `cargo build --release -p covlens-cli`
#   LOCAL=1                  also time the local merge and check the outputs
#                            are the same (0 to skip)
#
# Needs bash 5, python3, go (builds s3alias with the module proxy's
# gofakes3), curl and GNU time. Wall time is bash's $EPOCHREALTIME; peak
# RSS and CPU are GNU time's (%M, %U + %S); the server's CPU is read from
# /proc before and after.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
COUNT="${COUNT:-1000}"
DISTINCT="${DISTINCT:-10}"
FILES="${FILES:-12000}"
BLOCKS="${BLOCKS:-50}"
RUNS="${RUNS:-1}"
LOCAL="${LOCAL:-1}"
BENCH_DIR="${BENCH_DIR:-target/bench-data}"

die() {
    echo "objects.sh: $*" >&2
    exit 1
}
log() { echo "objects.sh: $*" >&2; }
[[ -n "${EPOCHREALTIME:-}" ]] || die "needs bash 5"
[[ -x /usr/bin/time ]] || die "GNU time is missing: apt-get install time"
for t in python3 go curl; do command -v "$t" >/dev/null || die "$t is missing"; done

if [[ -z "${COVLENS:-}" ]]; then
    log "building covlens (cargo build --release -p covlens-cli)"
    cargo build --release -p covlens-cli >&2
    COVLENS="${CARGO_TARGET_DIR:-$REPO/target}/release/covlens"
fi
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
S3ALIAS="$BENCH_DIR/s3alias"
log "building $S3ALIAS"
(cd benches/s3alias && go build -o "$S3ALIAS" .)

SRC=()
for ((i = 1; i <= DISTINCT; i++)); do
    f="$BENCH_DIR/random-${FILES}x${BLOCKS}-seed$i.out"
    if [[ ! -s "$f" ]]; then
        log "generating $f"
        python3 benches/gen-synthetic-profile.py "$FILES" "$BLOCKS" "$i" "$f.tmp"
        mv -f "$f.tmp" "$f"
    fi
    SRC+=("$f")
done

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$S3ALIAS" -host "127.0.0.1:$PORT" -count "$COUNT" -distinct "$DISTINCT" 2>"$BENCH_DIR/s3alias.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
for ((i = 1; i <= DISTINCT; i++)); do
    curl -sf -T "${SRC[i - 1]}" "http://127.0.0.1:$PORT/cov/sources/seed-$i.cov" -o /dev/null ||
        die "uploading seed-$i.cov failed"
done

export AWS_ENDPOINT="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=bench \
    AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
URL="s3://cov/logs/e2e/1/artifacts/*.cov"
BYTES=0
for ((i = 0; i < COUNT; i++)); do BYTES=$((BYTES + $(stat -c %s "${SRC[i % DISTINCT]}"))); done
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK="$(getconf CLK_TCK)"

best_wall="" best_rss="" best_cpu="" best_srv=""
for ((r = 1; r <= RUNS; r++)); do
    s0="$(cpu_of $SERVER)"
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S' -o "$BENCH_DIR/objects.time" \
        "$COVLENS" merge -q "$URL" -o "$BENCH_DIR/objects-remote.out"
    t1=$EPOCHREALTIME
    s1="$(cpu_of $SERVER)"
    read -r rss u s <"$BENCH_DIR/objects.time"
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
    log "run $r: $wall s, $((rss / 1024)) MB"
    if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
        best_wall=$wall best_rss=$rss
        best_cpu="$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }')"
        best_srv="$(awk -v a="$s0" -v b="$s1" -v t="$TICK" 'BEGIN { printf "%.1f", (b - a) / t }')"
    fi
done

echo
echo "| input | objects | bytes | wall | peak RSS | covlens CPU | server CPU | rate |"
echo "|---|---|---|---|---|---|---|---|"
rate() { awk -v b="$BYTES" -v w="$1" 'BEGIN { printf "%.0f MB/s", b / 1e6 / w }'; }
echo "| $URL (gofakes3) | $COUNT | $((BYTES / 1000000)) MB | $best_wall s | $((best_rss / 1024)) MB | $best_cpu s | $best_srv s | $(rate "$best_wall") |"

if [[ "$LOCAL" == 1 ]]; then
    LOCALS=()
    for ((i = 0; i < COUNT; i++)); do LOCALS+=("${SRC[i % DISTINCT]}"); done
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S' -o "$BENCH_DIR/objects.time" \
        "$COVLENS" merge -q --no-mmap "${LOCALS[@]}" -o "$BENCH_DIR/objects-local.out"
    t1=$EPOCHREALTIME
    read -r rss u s <"$BENCH_DIR/objects.time"
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
    cpu="$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }')"
    echo "| the same files, local (read(2)) | $COUNT | $((BYTES / 1000000)) MB | $wall s | $((rss / 1024)) MB | $cpu s | - | $(rate "$wall") |"
    cmp -s "$BENCH_DIR/objects-remote.out" "$BENCH_DIR/objects-local.out" ||
        die "the remote and local merges differ"
    log "remote and local outputs are identical"
fi

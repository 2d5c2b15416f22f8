#!/usr/bin/env bash
# CPU and memory of the collector sidecar, from /proc: idle (a server
# flushing every 10s), busy (binary snapshots every 50ms under load) and
# a Kubernetes-sized text profile (kube-apiserver's 300k blocks, 21 MB)
# rewritten every 5s, by rename and in place.
#
#   benches/collector.sh [SECONDS] [SCENARIO...]
#
# SECONDS defaults to 20 per scenario; SCENARIO is idle, busy, covdata-all,
# text-rename, text-inplace or text-gs (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release -q -p covlens-collector --bin covlens-collect
bin="$PWD/target/release/covlens-collect"
(cd collector/go && go build -cover -covermode=atomic -o "$work/server" ./testdata/server)
tck=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# measure NAME PID: CPU% over $secs seconds, current and peak RSS.
measure() {
    local name=$1 pid=$2 t0 t1
    sleep 2 # let it settle
    t0=$(cpu_ticks "$pid")
    sleep "$secs"
    t1=$(cpu_ticks "$pid")
    awk -v n="$name" -v d=$((t1 - t0)) -v hz="$tck" -v s="$secs" -v r="$(rss_kb "$pid")" -v h="$(hwm_kb "$pid")" \
        'BEGIN { printf "%-34s cpu %6.2f%%   rss %6.1f MiB   peak rss %6.1f MiB\n", n, 100 * d / hz / s, r / 1024, h / 1024 }'
}

start_collector() { # WATCH DEST [ARGS...]; sets $c
    local watch=$1 dest=$2
    shift 2
    COVLENS_LOG=warn "$bin" --watch "$watch" --dest "$dest" --staging "$work/staging-$RANDOM" "$@" \
        >/dev/null 2>>"$work/collector.log" &
    c=$!
}

start_server() { # ENV...; sets $addr
    rm -f "$work/server.out"
    env "$@" "$work/server" >"$work/server.out" 2>/dev/null &
    for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
    addr=$(awk '{print $2}' "$work/server.out")
}

stop_all() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
}

load() { # ADDR: requests in a loop until killed
    while true; do curl -s "http://$1/classify?n=$RANDOM" >/dev/null || true; done
}

# A Kubernetes-sized text profile, rewritten every 5s like KUBE_COVERAGE_FILE,
# either by rename or in place (truncate, then write in pieces, as the
# Kubernetes wrapper does), with counts growing. The default layout has the
# size of kube-apiserver v1.34.4 built with -cover -coverpkg=k8s.io/...
# (298,637 blocks in 4,351 files, 21 MB: benches/kube-apiserver-profile.sh);
# COVLENS_BENCH_PROFILE=FILE takes the lines of a real profile instead.
text_writer() { # PATH rename|inplace
    exec python3 - "$1" "$2" "${COVLENS_BENCH_PROFILE:-}" <<'PY'
import os, random, sys, time
path, how, template = sys.argv[1], sys.argv[2], sys.argv[3]
if template:
    with open(template) as fh:
        mode, *lines = fh.read().splitlines()
    keys = [l.rsplit(" ", 1)[0] for l in lines]
else:
    mode, keys = "mode: count", []
    for f in range(4351):
        name = f"k8s.io/kubernetes/pkg/controller/sub{f // 25:03d}/file{f:04d}.go"
        for b in range(69 if f < 2826 else 68):
            l = 10 + b * 4
            keys.append(f"{name}:{l}.{2 + b % 30},{l + 2}.{3 + b % 7} {1 + b % 4}")
counts = [0] * len(keys)
next_write = time.monotonic()
while True:
    for _ in range(5000):
        counts[random.randrange(len(counts))] += random.randrange(1, 50)
    data = "\n".join([mode] + [f"{k} {c}" for k, c in zip(keys, counts)]).encode() + b"\n"
    if how == "rename":
        with open(path + ".tmp", "wb") as fh:
            fh.write(data)
        os.rename(path + ".tmp", path)
    else:
        with open(path, "wb") as fh:
            for i in range(0, len(data), 1 << 16):
                fh.write(data[i:i + (1 << 16)])
                fh.flush()
    # Every 5s, however long the write took.
    next_write += 5
    time.sleep(max(0, next_write - time.monotonic()))
PY
}

scenario_idle() {
    mkdir -p "$work/idle"
    start_server GOCOVERDIR="$work/idle" COVFLUSH_INTERVAL=10s
    start_collector "$work/idle" "$work/dest-idle"
    measure "idle (flush every 10s, no load)" "$c"
    stop_all
}

scenario_busy() {
    mkdir -p "$work/busy"
    start_server GOCOVERDIR="$work/busy" COVFLUSH_INTERVAL=50ms
    start_collector "$work/busy" "$work/dest-busy"
    load "$addr" &
    measure "busy (flush every 50ms, under load)" "$c"
    shipped=$(find "$work/dest-busy" -name 'covcounters.*' | wc -l)
    echo "  busy: $(grep -c . "$work/collector.log" || true) log lines, $shipped counter file(s) at the destination"
    stop_all
}

# The same server built with -coverpkg=all (the standard library instrumented
# too: a 0.8 MB meta-data file), flushing every 5s under load.
scenario_covdata-all() {
    mkdir -p "$work/all"
    [ -x "$work/server-all" ] ||
        (cd collector/go && go build -cover -covermode=atomic -coverpkg=all -o "$work/server-all" ./testdata/server)
    rm -f "$work/server.out"
    GOCOVERDIR="$work/all" COVFLUSH_INTERVAL=5s "$work/server-all" >"$work/server.out" 2>/dev/null &
    for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
    addr=$(awk '{print $2}' "$work/server.out")
    start_collector "$work/all" "$work/dest-all"
    load "$addr" &
    measure "covdata, -coverpkg=all, every 5s, load" "$c"
    ls -l "$work/all" | awk '/covmeta/ {m = $5} /covcounters/ {c = $5} END {printf "  meta %.0f KB, newest counter file %.0f KB\n", m / 1024, c / 1024}'
    stop_all
}

scenario_text() { # rename|inplace
    local how=$1 dir="$work/text-$1"
    mkdir -p "$dir"
    text_writer "$dir/kube-apiserver.cov" "$how" &
    while [ ! -s "$dir/kube-apiserver.cov" ]; do sleep 0.2; done
    sleep 1
    ls -l "$dir/kube-apiserver.cov" | awk -v n="$(($(wc -l <"$dir/kube-apiserver.cov") - 1))" '{printf "  text profile: %d blocks, %.1f MiB\n", n, $5 / 1048576}'
    if [ "$how" = rename ]; then
        start_collector "$dir/kube-apiserver.cov" "$work/dest-$how" --kind text --text-writer rename
    else
        start_collector "$dir/kube-apiserver.cov" "$work/dest-$how" --kind text
    fi
    measure "text profile every 5s ($how)" "$c"
    stop_all
    echo "  $(grep 'snapshots taken' "$work/collector.log" | tail -1)"
}

scenario_text-rename() { scenario_text rename; }
scenario_text-inplace() { scenario_text inplace; }

# The same profile uploaded to gs:// (object_store's GCS client) on gofakes3
# (scripts/install-gofakes3.sh): multipart uploads over HTTP.
scenario_text-gs() {
    local s3="${GOFAKES3:-$PWD/.tools/bin/gofakes3}" port dir="$work/text-gs"
    [ -x "$s3" ] || scripts/install-gofakes3.sh >/dev/null
    cargo build --release -q -p covlens-collector --features cloud --bin covlens-collect
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$s3" -backend memory -autobucket -initialbucket cov -host "127.0.0.1:$port" >/dev/null 2>&1 &
    mkdir -p "$dir"
    text_writer "$dir/kube-apiserver.cov" rename &
    while [ ! -s "$dir/kube-apiserver.cov" ]; do sleep 0.2; done
    GOOGLE_SERVICE_ACCOUNT_KEY="{\"gcs_base_url\": \"http://127.0.0.1:$port\", \"disable_oauth\": true, \"client_email\": \"\", \"private_key\": \"\", \"private_key_id\": \"\"}" \
        start_collector "$dir/kube-apiserver.cov" gs://cov/bench --kind text --text-writer rename
    measure "text profile every 5s (rename, gs://)" "$c"
    stop_all
    echo "  $(grep 'snapshots taken' "$work/collector.log" | tail -1)"
    # Back to the default build for later scenarios.
    cargo build --release -q -p covlens-collector --bin covlens-collect
}

shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(idle busy covdata-all text-rename text-inplace text-gs)
echo "scenario (${secs}s each)"
for s in "${scenarios[@]}"; do
    declare -F "scenario_$s" >/dev/null || { echo "unknown scenario: $s" >&2; exit 2; }
    "scenario_$s"
done

#!/usr/bin/env bash
# Scale figures of the history store (docs/history.md), on SQLite and on a
# throwaway PostgreSQL server (scripts/postgres-testenv.sh):
# - `covlens history record` of a Kubernetes-sized run (4,350 files,
#   300,150 blocks, from benches/gen-synthetic-profile.py), whole process;
# - the library's record, show over COVLENS_BENCH_RUNS (10,000) runs of
#   COVLENS_BENCH_PACKAGES (5,000) packages, bytes per run
#   (history/benches/scale.rs).
#
#   benches/history.sh          # about 10 minutes on 2 cores; ~5 GB of disk
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/target/bench-data/history"
mkdir -p "$out"
profile="$out/kube-4350x69.out"
[[ -f "$profile" ]] || python3 benches/gen-synthetic-profile.py 4350 69 1 "$profile"
cargo build --release -q -p covlens-cli
bin="$PWD/target/release/covlens"

scripts/postgres-testenv.sh start
trap 'scripts/postgres-testenv.sh stop' EXIT
eval "$(scripts/postgres-testenv.sh env)"

pg_db() { # a fresh database on the test server, printed as a URL
    psql -q "$COVLENS_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    echo "${COVLENS_TEST_POSTGRES/\/postgres\?/\/$1?}"
}

echo "== covlens history record, whole process (parse + record), $(du -h "$profile" | cut -f1) profile"
for backend in sqlite postgres; do
    if [[ $backend == sqlite ]]; then
        store="$out/cli-record.db"
        rm -f "$store" "$store-wal" "$store-shm"
    else
        store="$(pg_db covlens_bench_cli)"
    fi
    for build in 1 2 3 1; do
        start=$(date +%s%N)
        "$bin" history record --store "$store" --job kube --build "$build" "$profile" >/dev/null
        end=$(date +%s%N)
        printf '%-9s build %s: %d ms\n' "$backend" "$build" $(((end - start) / 1000000))
    done
done

echo "== library figures (history/benches/scale.rs)"
COVLENS_BENCH_PROFILE="$profile" COVLENS_BENCH_DIR="$out" \
    COVLENS_BENCH_POSTGRES="$COVLENS_TEST_POSTGRES" COVLENS_BIN="$bin" \
    cargo bench -q -p covlens-history --bench scale

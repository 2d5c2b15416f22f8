#!/usr/bin/env bash
# The test command from the README: sets up the oracles if missing, then
# runs every test of the workspace, including the ones that need a tool
# (#[ignore = "needs go"], gopherage, gofakes3, python3, ...: a plain
# `cargo test` lists those as ignored), then the collector's object store
# tests (feature `cloud`) against gofakes3. Long tests (named `long_*`)
# are left to .ci/run. Extra arguments go to the test harness, e.g.
# `scripts/test.sh merge` or `scripts/test.sh --skip compat`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export GOPHERAGE="${GOPHERAGE:-$PWD/.tools/bin/gopherage}"
export GOFAKES3="${GOFAKES3:-$PWD/.tools/bin/gofakes3}"
# PostgreSQL for the history store's tests, on a socket in a temp dir.
scripts/postgres-testenv.sh start
trap 'scripts/postgres-testenv.sh stop' EXIT
eval "$(scripts/postgres-testenv.sh env)"
# A Kubernetes API server with Prow's ProwJob CRD for the Prow reporter's
# tests (cli/tests/prow_reporter.rs); built by `scripts/kube-testenv.sh build`.
# Built once per machine (cached in .tools/kube, about 1 s when present);
# left running when it already ran (.ci/run starts it first).
scripts/kube-testenv.sh build
if scripts/kube-testenv.sh status >/dev/null 2>&1; then
    trap 'scripts/postgres-testenv.sh stop' EXIT
else
    scripts/kube-testenv.sh start
    trap 'scripts/kube-testenv.sh stop; scripts/postgres-testenv.sh stop' EXIT
fi
kube_env="$(scripts/kube-testenv.sh env)"
eval "$kube_env"
cargo test --workspace -- --include-ignored --skip long_ "$@"
cargo test -p covlens-collector --features cloud --test cloud -- --include-ignored --skip long_ "$@"

#!/usr/bin/env bash
# The test command from the README: sets up the oracles if missing, then
# runs every test of the workspace (unit, snapshot, and integration tests
# against the real Go toolchain and gopherage), then the collector's object
# store tests (feature `cloud`) against gofakes3.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export GOPHERAGE="${GOPHERAGE:-$PWD/.tools/bin/gopherage}"
export GOFAKES3="${GOFAKES3:-$PWD/.tools/bin/gofakes3}"
# PostgreSQL for the history store's tests, on a socket in a temp dir.
scripts/postgres-testenv.sh start
trap 'scripts/postgres-testenv.sh stop' EXIT
eval "$(scripts/postgres-testenv.sh env)"
cargo test --workspace "$@"
cargo test -p covlens-collector --features cloud --test cloud "$@"
# The history store's PostgreSQL tests (#[ignore = "needs postgres"]); drop
# these two lines once the line above runs with --include-ignored.
cargo test -p covlens-history --test store -- --ignored
cargo test -p covlens-cli --test history -- --ignored

#!/usr/bin/env bash
# The test command from the README: sets up the oracles if missing, then
# runs every test of the workspace (unit, snapshot, and integration tests
# against the real Go toolchain and gopherage).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export GOPHERAGE="${GOPHERAGE:-$PWD/.tools/bin/gopherage}"
cargo test --workspace "$@"

#!/usr/bin/env bash
# Installs what covlens' tests and demo need beyond Rust and Go: the
# gopherage oracle (built from the Go module proxy, cached in .tools/) and
# the Go modules of the fixtures. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo go; do
    command -v "$tool" >/dev/null || { echo "setup: '$tool' is not on PATH" >&2; exit 1; }
done
scripts/install-gopherage.sh

#!/usr/bin/env bash
# The main job on the bundled fixtures: merge the per-test-binary profiles
# in fixtures/demo/ (as an e2e job merges its components' profiles), then
# write the merged profile, the per-package summary, a JUnit report and an
# HTML page into the folder given as $1 (default: out/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/demo}"

cargo build --release -p covlens-cli
BIN=target/release/covlens
mkdir -p "$OUT"

"$BIN" merge fixtures/demo/*.out -o "$OUT/merged.out"
"$BIN" filter "$OUT/merged.out" --exclude-path='zz_generated,\.pb\.go' -o "$OUT/filtered.out"
"$BIN" summary "$OUT/filtered.out" --by package --format markdown -o "$OUT/summary.md"
"$BIN" summary "$OUT/filtered.out" --format json -o "$OUT/summary.json"
"$BIN" junit "$OUT/filtered.out" --threshold 0.5 -o "$OUT/junit_coverage.xml"
"$BIN" html "$OUT/filtered.out" -o "$OUT/report.html"

"$BIN" summary "$OUT/filtered.out" --by package
echo
echo "demo: wrote $OUT/{merged.out,filtered.out,summary.md,summary.json,junit_coverage.xml,report.html}"

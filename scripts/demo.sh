#!/usr/bin/env bash
# The main job on the bundled fixtures: merge the per-test-binary profiles
# in fixtures/demo/ (as an e2e job merges its components' profiles), then
# write the merged profile, the per-package summary, a JUnit report, a
# badge, the HTML report site (with sources), what only the command's
# tests cover, and a profile without the code `// coverage-ignore` comments
# mark into the folder given as $1 (default: out/demo).
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
# Columns are named NAME=PROFILE: the merged run next to the plain unit
# tests' profile (calc.out).
"$BIN" html "all tests=$OUT/filtered.out" "unit=fixtures/demo/calc.out" \
    --source-root example.com/goprog=fixtures/goprog --title "goprog coverage" \
    -o "$OUT/report.html"
"$BIN" report "all tests=$OUT/filtered.out" "unit=fixtures/demo/calc.out" \
    --source-root example.com/goprog=fixtures/goprog --title "goprog coverage" --out "$OUT/report"
"$BIN" badge "$OUT/filtered.out" -o "$OUT/badge.svg"
# What the command's own tests (the e2e-like binary) reach and no package's
# unit tests do.
"$BIN" subtract fixtures/demo/cmd-goprog.out fixtures/demo/calc.out fixtures/demo/calc-advanced.out \
    fixtures/demo/calcx.out fixtures/demo/pkg-a.out fixtures/demo/pkg-ab.out -o "$OUT/cmd-only.out"

"$BIN" summary "$OUT/filtered.out" --by package
echo
echo "## Covered only by the cmd/goprog tests ($OUT/cmd-only.out)"
"$BIN" summary "$OUT/cmd-only.out" --by package
echo
echo
echo "## The same coverage as LCOV and Codecov count it (covlens explain)"
"$BIN" explain "$OUT/filtered.out" --top 3
echo
echo "## Code marked // coverage-ignore left out (covlens filter --ignore-annotations)"
"$BIN" filter fixtures/ignoreprog/cover.out --ignore-annotations \
    --source-root example.com/ignoreprog=fixtures/ignoreprog -o "$OUT/ignored.out" 2>&1 | head -n 3
echo "before:"
"$BIN" summary fixtures/ignoreprog/cover.out --by package
echo "after:"
"$BIN" summary "$OUT/ignored.out" --by package
echo "a policy that leaves them out itself (covlens check --ignore-annotations):"
"$BIN" check fixtures/ignoreprog/cover.out --threshold-total 80 --ignore-annotations \
    --source-root example.com/ignoreprog=fixtures/ignoreprog 2>/dev/null
echo "a report that leaves them out and shows them greyed (covlens report --ignore-annotations):"
"$BIN" report fixtures/ignoreprog/cover.out --ignore-annotations \
    --source-root example.com/ignoreprog=fixtures/ignoreprog --out "$OUT/ignored-report" 2>&1 | head -n 1
echo
echo "demo: wrote $OUT/{merged.out,filtered.out,summary.md,summary.json,junit_coverage.xml,badge.svg,cmd-only.out,ignored.out}"
echo "demo: open $OUT/report/index.html for the full report (works from file://),"
echo "demo: or $OUT/report.html, the same report in one file to attach or mail;"
echo "demo: $OUT/ignored-report/index.html shows the blocks // coverage-ignore left out"

#!/usr/bin/env bash
# Fuzzes the text parser (fuzz/fuzz_targets/parse_text.rs), the binary
# GOCOVERDIR readers (parse_covdata.rs) and the readings of Go sources
# (go_source.rs: function extents, coverage-ignore annotations), unified
# diffs (diff.rs: a pull request's diff read, and undone) and the report's
# source view (source_view.rs: a hostile profile's blocks over any bytes),
# each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [-- extra libFuzzer flags]     (default 60 s)
#
# Needs a nightly toolchain and cargo-fuzz; installs cargo-fuzz
# (`cargo install cargo-fuzz --locked`) when nightly is there but cargo-fuzz
# is not. Without nightly, or when cargo-fuzz cannot be installed, it says why
# and exits 0, so it can sit in a CI script. A crash or a disagreement
# between the parsers exits non-zero and leaves the input under
# fuzz/artifacts/<target>/.
#
# Each corpus grows in fuzz/corpus/<target> (git-ignored), seeded from the
# inputs in fuzz/seeds/<target> (go_source: the Go fixtures). COVLENS_FUZZ_STRICT=1 also
# requires the error messages of the different readers to agree.
#
# The target is built without a sanitizer by default (covlens-core's parser
# and writer are safe Rust, and AddressSanitizer costs ~4x in executions per
# second); SANITIZER=address brings it back. Debug assertions and overflow
# checks are on either way.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGETS="${FUZZ_TARGETS:-parse_text parse_covdata go_source diff source_view}"
DURATION="${1:-60}"
[[ $# -gt 0 ]] && shift
[[ "${1:-}" == "--" ]] && shift

if ! [[ "$DURATION" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [-- libFuzzer flags]" >&2
    exit 2
fi

skip() {
    echo "fuzz.sh: skipped: $*"
    exit 0
}

command -v cargo >/dev/null 2>&1 || skip "cargo is not on PATH"
if ! cargo +nightly --version >/dev/null 2>&1; then
    skip "no nightly toolchain (cargo-fuzz needs one: rustup toolchain install nightly)"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing; installing it with 'cargo install cargo-fuzz --locked'"
    if ! cargo install cargo-fuzz --locked; then
        skip "cargo-fuzz is not installed and 'cargo install cargo-fuzz --locked' failed"
    fi
fi

cd "$REPO"
echo "fuzz.sh: $(cargo +nightly --version); $(cargo fuzz --version)"
for TARGET in $TARGETS; do
    CORPUS="fuzz/corpus/$TARGET"
    mkdir -p "$CORPUS"
    # Go sources are seeded from the Go fixtures themselves.
    case "$TARGET" in
        go_source) SEEDS=(fixtures/ignoreprog fixtures/funcsrc/lines) ;;
        *) SEEDS=("fuzz/seeds/$TARGET") ;;
    esac
    echo "fuzz.sh: running $TARGET for ${DURATION}s (corpus $CORPUS, seeds ${SEEDS[*]})"
    set +e
    cargo +nightly fuzz run --sanitizer "${SANITIZER:-none}" "$TARGET" "$CORPUS" "${SEEDS[@]}" -- \
        -max_total_time="$DURATION" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 "$@"
    status=$?
    set -e
    if [[ $status -ne 0 ]]; then
        echo "fuzz.sh: $TARGET failed (exit $status); inputs that crash are in fuzz/artifacts/$TARGET/" >&2
        echo "fuzz.sh: reproduce with: cargo +nightly fuzz run $TARGET fuzz/artifacts/$TARGET/<file>" >&2
        exit "$status"
    fi
    echo "fuzz.sh: $TARGET: no crash or disagreement in ${DURATION}s"
done

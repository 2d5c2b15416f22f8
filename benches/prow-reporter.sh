#!/usr/bin/env bash
# The Prow reporter under load: N ProwJobs (default 500) finish together
# (set to success 16 at a time by the test driver); measured: the time
# until the reporter has recorded every one in status.prev_report_states
# (each published exactly once, checked), and the reporter's peak RSS
# (VmHWM of /proc/PID/status, the figure /usr/bin/time -v reports as
# "Maximum resident set size", read while it still runs).
#
#   benches/prow-reporter.sh [N]
#
# Runs the test five_hundred_jobs_finishing_together of
# cli/tests/prow_reporter.rs (the reporter as a subprocess with its test
# publisher) against the cluster of scripts/kube-testenv.sh, started here
# (and stopped again) unless it already runs. PROFILE=dev measures a debug
# build (default: release).
set -euo pipefail
cd "$(dirname "$0")/.."
export COVLENS_BENCH_JOBS="${1:-500}"
profile="${PROFILE:-release}"

started=
if ! scripts/kube-testenv.sh status >/dev/null 2>&1; then
    scripts/kube-testenv.sh start
    started=1
fi
trap '[[ -n "$started" ]] && scripts/kube-testenv.sh stop' EXIT
vars="$(scripts/kube-testenv.sh env)"
eval "$vars"

out="$(mktemp)"
cargo test -q --profile "$profile" -p covlens-cli --test prow_reporter -- \
    --include-ignored --exact five_hundred_jobs_finishing_together --nocapture 2>&1 | tee "$out"
echo
grep '^BENCH' "$out" | sed "s/^BENCH /($profile build, $(nproc) cores) /"
rm -f "$out"

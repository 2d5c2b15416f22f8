#!/usr/bin/env bash
# The Prow flow end to end on the bundled fixtures (issue 11 §6): a real
# kube-apiserver with Prow's ProwJob CRD (scripts/kube-testenv.sh), Prow's
# artifact layout in a local bucket (file://), the fake GitHub, and
# `covlens prow reporter`. Three branch jobs (master, 1.36, 1.35; master
# three times) and a presubmit finish. The reporter records each run in an
# SQLite history; publishes the branch table with master's trend, a table
# per OWNERS label (fixtures/owners, read through the fake GitHub) and the PR comment; and measures
# master's flaky coverage over its three runs. This script prints them.
# Results land in $1 (default out/prow-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/prow-demo}"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
say() { printf 'prow-demo: %s\n' "$*" >&2; }

cargo build -q -p covlens-cli --bin covlens
cargo build -q -p covlens-prow --features fake-github --bin covlens-fake-github
BIN="$PWD/target/debug"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${STARTED_KUBE:-0}" == 1 ]]; then scripts/kube-testenv.sh stop || true; fi
}
trap cleanup EXIT

if ! scripts/kube-testenv.sh status >/dev/null 2>&1; then
    scripts/kube-testenv.sh build
    scripts/kube-testenv.sh start
    STARTED_KUBE=1
fi
eval "$(scripts/kube-testenv.sh env)"

# --- Prow's artifacts: three branch runs and a pull request's ------------------
A="$OUT/artifacts"
run_id="$(date +%s)"
put_run() { # put_run DIR PROFILES...: a finished, successful run
    local dir="$1"
    shift
    mkdir -p "$A/$dir/artifacts"
    "$BIN/covlens" merge "$@" -o "$A/$dir/artifacts/combined-coverage.out"
    # The commit it tested, as Prow's initupload records it.
    printf '{"timestamp":%s,"repo-commit":"%040d"}\n' "$run_id" "${dir##*/}" >"$A/$dir/started.json"
    printf '{"timestamp":%s,"passed":true,"result":"SUCCESS"}\n' "$run_id" >"$A/$dir/finished.json"
}
F=fixtures/demo
put_run "logs/ci-goprog-coverage-1-35/1001" "$F/calc.out" "$F/pkg-a.out"
put_run "logs/ci-goprog-coverage-1-36/1002" "$F/calc.out" "$F/pkg-a.out" "$F/cmd-goprog.out"
# master's two earlier runs, then its latest.
put_run "logs/ci-goprog-coverage/990" "$F/calc.out" "$F/pkg-a.out" "$F/calcx.out"
put_run "logs/ci-goprog-coverage/995" "$F/calc-advanced.out" "$F/pkg-a.out" "$F/calcx.out"
put_run "logs/ci-goprog-coverage/1003" "$F"/*.out
for j in ci-goprog-coverage-1-35:1001 ci-goprog-coverage-1-36:1002 ci-goprog-coverage:1003; do
    printf '%s' "${j#*:}" >"$A/logs/${j%%:*}/latest-build.txt"
done
# The pull request drops calc's own tests (calc.out): three functions lose coverage.
put_run "pr-logs/pull/acme_goprog/7/pull-goprog-coverage/2001" "$F/calc-advanced.out" "$F/pkg-a.out" \
    "$F/pkg-ab.out" "$F/calcx.out" "$F/cmd-goprog.out"

# --- the fake GitHub and the reporter ----------------------------------------
printf 'demo-token' >"$OUT/github-token"
# acme/goprog's master holds fixtures/owners: the reporter reads its OWNERS
# through the git trees and blobs APIs, with no checkout. The pull request's
# head commit holds fixtures/goprog: the comment's functions are read there.
python3 - "$OUT/github-state.json" fixtures/owners fixtures/goprog <<'PY'
import json, os, sys
out, owners, sources = sys.argv[1], sys.argv[2], sys.argv[3]
files = []
for root, ref in [(owners, "master"), (sources, "c0ffee0000000000000000000000000000000000")]:
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            files.append({"repo": "acme/goprog", "reference": ref,
                          "path": os.path.relpath(p, root), "content": list(open(p, "rb").read())})
json.dump({"users": [], "repos": [], "comments": [], "statuses": [], "check_runs": [],
           "files": files, "last_id": 0}, open(out, "w"))
PY
"$BIN/covlens-fake-github" --state "$OUT/github-state.json" --token demo-token=covlens-bot \
    >"$OUT/github.url" 2>"$OUT/github.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$OUT/github.url" ]] && break; sleep 0.1; done
GITHUB_URL="$(head -n1 "$OUT/github.url")"
[[ -n "$GITHUB_URL" ]] || { say "the fake GitHub did not start: $(cat "$OUT/github.log")"; exit 1; }

cat >"$OUT/reporter.yaml" <<EOF
name: covlens
namespace: default
artifacts: file://$A
publish: file://$OUT/publish
dashboards:
  - name: e2e
    owners: {github: acme/goprog, ref: master, by: label}
    columns:
      - {label: master, job: ci-goprog-coverage}
      - {label: "1.36", job: ci-goprog-coverage-1-36}
      - {label: "1.35", job: ci-goprog-coverage-1-35}
presubmits:
  - {job: pull-goprog-coverage, base: ci-goprog-coverage, threshold: 50, module: example.com/goprog}
github: {api: "$GITHUB_URL", token_file: $OUT/github-token}
history: {store: $OUT/history.db, trend: 10, flaky: 3}
EOF
COVLENS_LOG=info "$BIN/covlens" prow reporter --kubeconfig "$KUBECONFIG" --config "$OUT/reporter.yaml" \
    2>"$OUT/reporter.log" &
pids+=($!)

# --- ProwJobs: created pending, then finished --------------------------------
api() { # api METHOD PATH [CURL ARGS...]
    local method="$1" path="$2"
    shift 2
    curl -sS --fail-with-body --max-time 30 --cacert "$COVLENS_KUBE_CA_FILE" \
        -H @<(printf 'Authorization: Bearer %s\n' "$COVLENS_KUBE_TOKEN") \
        -X "$method" "$@" "$COVLENS_KUBE_SERVER$path"
}
PJ="/apis/prow.k8s.io/v1/namespaces/default/prowjobs"
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
names=()
finish_job() { # finish_job JOB TYPE BUILD
    local job="$1" type="$2" build="$3" name refs
    name="demo-$run_id-$build"
    refs='{"org":"acme","repo":"goprog","base_ref":"master","base_sha":"b0a5e00000000000000000000000000000000000"}'
    [[ "$type" == presubmit ]] &&
        refs='{"org":"acme","repo":"goprog","base_ref":"master","base_sha":"0000000000000000000000000000000000001003","pulls":[{"number":7,"author":"alice","sha":"c0ffee0000000000000000000000000000000000"}]}'
    api POST "$PJ" -H 'Content-Type: application/json' -o /dev/null --data-binary @- <<EOF
{"apiVersion":"prow.k8s.io/v1","kind":"ProwJob",
 "metadata":{"name":"$name","labels":{"created-by-prow":"true","prow.k8s.io/job":"$job","prow.k8s.io/type":"$type"}},
 "spec":{"type":"$type","agent":"kubernetes","cluster":"default","namespace":"test-pods","job":"$job","report":true,"refs":$refs},
 "status":{"state":"pending","startTime":"$(now)","build_id":"$build"}}
EOF
    api PATCH "$PJ/$name" -H 'Content-Type: application/merge-patch+json' -o /dev/null \
        --data-binary "{\"status\":{\"state\":\"success\",\"completionTime\":\"$(now)\"}}"
    names+=("$name")
    say "$job #$build ($type) finished"
}
wait_reported() { # wait_reported NAME
    for _ in $(seq 300); do
        if api GET "$PJ/$1" 2>/dev/null |
            python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get("status",{}).get("prev_report_states",{}).get("covlens")=="success" else 1)'; then
            return 0
        fi
        sleep 0.2
    done
    say "$1 was not reported within 60 s; the reporter's log:"
    tail -n 30 "$OUT/reporter.log" >&2
    exit 1
}
# master's runs one after the other, a second apart: the history orders
# runs by completion time.
for b in 990 995; do
    finish_job ci-goprog-coverage periodic "$b"
    wait_reported "${names[-1]}"
    sleep 1
done
finish_job ci-goprog-coverage-1-35 periodic 1001
finish_job ci-goprog-coverage-1-36 periodic 1002
finish_job ci-goprog-coverage periodic 1003
wait_reported "${names[-1]}"
finish_job pull-goprog-coverage presubmit 2001
for n in "${names[@]}"; do wait_reported "$n"; done
say "every job reported once (status.prev_report_states.covlens = success)"
for n in "${names[@]}"; do api DELETE "$PJ/$n" -o /dev/null; done

echo "## Branch table ($OUT/publish/e2e/latest/table.md)"
cat "$OUT/publish/e2e/latest/table.md"
echo
echo "## Per OWNERS label ($OUT/publish/e2e/latest/owners.md; OWNERS of fixtures/owners, read through the fake GitHub)"
cat "$OUT/publish/e2e/latest/owners.md"
echo
echo "## PR comment on acme/goprog#7 (posted to the fake GitHub)"
cat "$OUT/publish/pr/acme_goprog/7/pull-goprog-coverage/2001/comment.md"
echo
echo "## master's recorded runs (covlens history show --store $OUT/history.db --job ci-goprog-coverage)"
"$BIN/covlens" history show --store "$OUT/history.db" --job ci-goprog-coverage
echo
echo "## master's flaky coverage (history.flaky: 3), as the reporter said it"
grep -o 'flaky coverage over [^;"]*' "$OUT/reporter.log" | tail -n 1
echo
say "site: $OUT/publish/e2e/latest/site/index.html; the pull request's: $OUT/publish/pr/acme_goprog/7/pull-goprog-coverage/2001/site/index.html; everything published: $OUT/publish"

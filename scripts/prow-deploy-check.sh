#!/usr/bin/env bash
# Runs the real reporter the way prow-integration/deploy/ deploys it, against
# the test cluster of scripts/kube-testenv.sh: as the covlens-reporter
# ServiceAccount (a token from the TokenRequest API) with nothing but the
# deployment's Role, on the deployment's configuration (its `listen` moved to
# a free loopback port). Checks that
#   - /readyz turns 200 (ProwJobs listed and watched, the Lease taken);
#   - a ProwJob that moves to success is recorded in
#     status.prev_report_states[covlens] (the merge patch the Role allows);
#   - /metrics counts the report; SIGTERM releases the Lease.
# Everything it creates in the namespace `default` is deleted at exit.
#
#   scripts/kube-testenv.sh start && scripts/prow-deploy-check.sh [COVLENS]
#
# COVLENS: a covlens binary with `prow reporter` (default target/debug/covlens).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COVLENS="${1:-$REPO/target/debug/covlens}"
DEPLOY="$REPO/prow-integration/deploy"
vars="$("$REPO/scripts/kube-testenv.sh" env)"
eval "$vars"
NS=default
TMP="$(mktemp -d)"
REPORTER_PID=
PJ=
say() { printf 'prow-deploy-check: %s\n' "$*"; }
fail() {
    say "FAIL $*" >&2
    [[ -s "$TMP/reporter.log" ]] && tail -n 20 "$TMP/reporter.log" >&2
    exit 1
}

api() {
    local method="$1" path="$2"
    shift 2
    curl -sS --max-time 30 --cacert "$COVLENS_KUBE_CA_FILE" \
        -H @<(printf 'Authorization: Bearer %s\n' "$COVLENS_KUBE_TOKEN") \
        -X "$method" "$@" "$COVLENS_KUBE_SERVER$path"
}

cleanup() {
    [[ -n "$REPORTER_PID" ]] && kill -TERM "$REPORTER_PID" 2>/dev/null
    local p
    for p in ${PJ:+"/apis/prow.k8s.io/v1/namespaces/$NS/prowjobs/$PJ"} \
        "/apis/coordination.k8s.io/v1/namespaces/$NS/leases/covlens-reporter" \
        "/apis/rbac.authorization.k8s.io/v1/namespaces/$NS/rolebindings/covlens-reporter" \
        "/apis/rbac.authorization.k8s.io/v1/namespaces/$NS/roles/covlens-reporter" \
        "/api/v1/namespaces/$NS/serviceaccounts/covlens-reporter"; do
        api DELETE "$p" -o /dev/null 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

[[ -x "$COVLENS" ]] || fail "$COVLENS is not an executable covlens"
"$COVLENS" prow reporter --help >/dev/null 2>&1 || fail "$COVLENS has no 'prow reporter' command"

# The ServiceAccount, Role and RoleBinding, applied as written.
apply() {
    local file="$1" path="$2" code
    code="$(api PATCH "$path?fieldManager=covlens-deploy-check&fieldValidation=Strict&force=true" \
        -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$file" -o "$TMP/body" -w '%{http_code}')"
    [[ "$code" == 200 || "$code" == 201 ]] || fail "apply $path: HTTP $code: $(cat "$TMP/body")"
}
apply "$DEPLOY/serviceaccount.yaml" "/api/v1/namespaces/$NS/serviceaccounts/covlens-reporter"
awk '/^---/ { n++; next } { print > (dir "/rbac-" n ".yaml") }' n=0 dir="$TMP" "$DEPLOY/rbac.yaml"
apply "$TMP/rbac-0.yaml" "/apis/rbac.authorization.k8s.io/v1/namespaces/$NS/roles/covlens-reporter"
apply "$TMP/rbac-1.yaml" "/apis/rbac.authorization.k8s.io/v1/namespaces/$NS/rolebindings/covlens-reporter"
say "ok   applied serviceaccount.yaml and rbac.yaml"

# The ServiceAccount's token (a file without a newline, like the one the
# kubelet mounts) in a kubeconfig.
api POST "/api/v1/namespaces/$NS/serviceaccounts/covlens-reporter/token" \
    -H 'Content-Type: application/json' \
    --data-binary '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}' \
    >"$TMP/token.json"
python3 -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["status"]["token"])' \
    "$TMP/token.json" >"$TMP/token" || fail "TokenRequest: $(cat "$TMP/token.json")"
cat >"$TMP/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: testenv, cluster: {server: "$COVLENS_KUBE_SERVER", certificate-authority: "$COVLENS_KUBE_CA_FILE"}}]
users: [{name: covlens-reporter, user: {tokenFile: "$TMP/token"}}]
contexts: [{name: testenv, context: {cluster: testenv, user: covlens-reporter, namespace: $NS}}]
current-context: testenv
EOF

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The deployment's configuration with what is outside the cluster made local:
# the listen port, the buckets (file://), the GitHub token, the history store.
mkdir -p "$TMP/artifacts" "$TMP/publish"
printf 'not-a-token' >"$TMP/github-token"
python3 - "$DEPLOY/reporter-config.yaml" "$TMP" "$PORT" >"$TMP/config.yaml" <<'PY'
import re, sys
src, tmp, port = sys.argv[1:]
text = open(src).read()
subs = [
    (r"(?m)^listen: .*$", "listen: 127.0.0.1:" + port),
    (r"(?m)^artifacts: .*$", "artifacts: file://" + tmp + "/artifacts"),
    (r"(?m)^publish: .*$", "publish: file://" + tmp + "/publish"),
    (r"token_file: [^}]*", "token_file: " + tmp + "/github-token"),
    (r"(?m)^history: .*$", "history: {store: " + tmp + "/history.sqlite}"),
]
for pattern, repl in subs:
    text, n = re.subn(pattern, repl, text)
    if n != 1:
        sys.exit("reporter-config.yaml: %r matched %d times" % (pattern, n))
sys.stdout.write(text)
PY

COVLENS_LOG=info "$COVLENS" prow reporter --kubeconfig "$TMP/kubeconfig" --config "$TMP/config.yaml" \
    >"$TMP/reporter.log" 2>&1 &
REPORTER_PID=$!
for ((i = 0; i < 100; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" == 200 ]] && break
    kill -0 "$REPORTER_PID" 2>/dev/null || fail "the reporter exited"
    sleep 0.2
done
[[ "$(curl -s "http://127.0.0.1:$PORT/readyz")" == ok ]] || fail "/readyz: $(curl -s "http://127.0.0.1:$PORT/readyz")"
say "ok   the reporter, as covlens-reporter with the Role only, is ready (ProwJobs watched, Lease taken)"

PJ="deploy-check-$(openssl rand -hex 6)"
cat >"$TMP/pj.json" <<EOF
{"apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
 "metadata": {"name": "$PJ", "namespace": "$NS",
   "labels": {"created-by-prow": "true", "prow.k8s.io/type": "periodic", "prow.k8s.io/job": "ci-kubernetes-coverage-e2e"},
   "annotations": {"prow.k8s.io/job": "ci-kubernetes-coverage-e2e"}},
 "spec": {"type": "periodic", "agent": "kubernetes", "job": "ci-kubernetes-coverage-e2e", "report": true},
 "status": {"state": "pending", "startTime": "2026-01-01T00:00:00Z", "build_id": "1790000000000000001"}}
EOF
code="$(api POST "/apis/prow.k8s.io/v1/namespaces/$NS/prowjobs?fieldValidation=Strict" \
    -H 'Content-Type: application/json' --data-binary "@$TMP/pj.json" -o "$TMP/body" -w '%{http_code}')"
[[ "$code" == 201 ]] || fail "create ProwJob: HTTP $code: $(cat "$TMP/body")"
api PATCH "/apis/prow.k8s.io/v1/namespaces/$NS/prowjobs/$PJ" -H 'Content-Type: application/merge-patch+json' \
    --data-binary '{"status": {"state": "success", "completionTime": "2026-01-01T00:10:00Z"}}' -o /dev/null
state=
for ((i = 0; i < 100; i++)); do
    state="$(api GET "/apis/prow.k8s.io/v1/namespaces/$NS/prowjobs/$PJ" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["status"].get("prev_report_states", {}).get("covlens", ""))')"
    [[ "$state" == success ]] && break
    sleep 0.1
done
[[ "$state" == success ]] || fail "prev_report_states[covlens] is '$state', expected success"
say "ok   ProwJob $PJ: success recorded in status.prev_report_states[covlens]"
metrics="$(curl -s "http://127.0.0.1:$PORT/metrics")"
grep -q '^covlens_prow_reports_total{state="success"' <<<"$metrics" || fail "/metrics counts no report"
say "ok   /metrics counts the report"

kill -TERM "$REPORTER_PID"
for ((i = 0; i < 100; i++)); do
    kill -0 "$REPORTER_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$REPORTER_PID" 2>/dev/null && fail "the reporter did not stop within 10 s of SIGTERM"
REPORTER_PID=
holder="$(api GET "/apis/coordination.k8s.io/v1/namespaces/$NS/leases/covlens-reporter" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["spec"].get("holderIdentity") or "")')"
[[ -z "$holder" ]] || fail "the Lease is still held by '$holder'"
say "ok   SIGTERM: stopped and released the Lease"

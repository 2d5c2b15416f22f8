#!/usr/bin/env bash
# Checks the test cluster of scripts/kube-testenv.sh the way the Prow
# reporter (issue 11) uses it, over plain HTTPS with the kubeconfig's token
# and CA:
#   - /version reports v1.36.3;
#   - a ProwJob (the minimal object of Prow's CRD) is created, watched,
#     JSON-merge-patched in `status` (prev_report_states, guarded by
#     resourceVersion: a stale one gets 409), read back and deleted; the
#     watch sees ADDED, MODIFIED and DELETED; there is no /status
#     subresource (404), and strict field validation refuses unknown fields;
#   - every object of collector/deploy/e2e-pod.yaml is accepted by a
#     server-side dry-run apply with strict field validation (and a typo'd
#     field is refused the same way);
#   - Prow's `checkconfig --strict` (with unknown-field checks) passes
#     collector/deploy/prow-job.yaml and refuses it with a typo'd field,
#     with the minimal Prow config scripts/kube-testenv-prow-config.yaml.
#
#   scripts/kube-testenv.sh start && scripts/kube-testenv-smoke.sh
#
# Exits non-zero at the first check that fails, saying which.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TESTENV="$REPO/scripts/kube-testenv.sh"
# (Assigned first: a failing command substitution inside eval goes unnoticed.)
vars="$("$TESTENV" env)"
eval "$vars"
paths="$("$TESTENV" paths)"
YAMLJSON="$(sed -n 's/^yamljson=//p' <<<"$paths")"
CHECKCONFIG="$(sed -n 's/^checkconfig=//p' <<<"$paths")"
NS=default
PJ_API="/apis/prow.k8s.io/v1/namespaces/$NS/prowjobs"

TMP="$(mktemp -d)"
WATCH_PID=
cleanup() {
    [[ -n "$WATCH_PID" ]] && kill "$WATCH_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

pass=0
ok() {
    pass=$((pass + 1))
    printf 'smoke: ok   %s\n' "$*"
}
fail() {
    printf 'smoke: FAIL %s\n' "$*" >&2
    exit 1
}

# api EXPECTED_CODES METHOD PATH [CURL ARGS...]: the response body goes to
# $TMP/body; fails unless the HTTP status is one of EXPECTED_CODES (a|b).
api() {
    local want="$1" method="$2" path="$3" code
    shift 3
    code="$(curl -sS --max-time 30 --cacert "$COVLENS_KUBE_CA_FILE" \
        -H @<(printf 'Authorization: Bearer %s\n' "$COVLENS_KUBE_TOKEN") \
        -X "$method" -o "$TMP/body" -w '%{http_code}' "$@" "$COVLENS_KUBE_SERVER$path")"
    [[ "|$want|" == *"|$code|"* ]] ||
        fail "$method $path: HTTP $code, expected $want: $(head -c 2000 "$TMP/body")"
}

# jget EXPR [FILE]: evaluates the Python expression EXPR on the JSON
# document d of FILE (default: the last response body).
jget() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[2])); v = eval(sys.argv[1]); print(v if isinstance(v, str) else json.dumps(v))' \
        "$1" "${2:-$TMP/body}"
}

expect() {
    local what="$1" got="$2" want="$3"
    [[ "$got" == "$want" ]] || fail "$what: got '$got', expected '$want'"
}

# ---------------------------------------------------------------- server
api 200 GET /version
expect "/version gitVersion" "$(jget 'd["gitVersion"]')" v1.36.3
ok "kube-apiserver $(jget 'd["gitVersion"]') at $COVLENS_KUBE_SERVER, TLS verified with $COVLENS_KUBE_CA_FILE"

# ---------------------------------------------------------------- ProwJob
NAME="smoke-$(openssl rand -hex 6)"
prowjob() {
    cat <<EOF
{"apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
 "metadata": {"name": "$NAME", "namespace": "$NS",
   "labels": {"created-by-prow": "true", "prow.k8s.io/type": "presubmit", "prow.k8s.io/refs.org": "acme",
              "prow.k8s.io/refs.repo": "widget", "prow.k8s.io/refs.pull": "42"},
   "annotations": {"prow.k8s.io/job": "pull-widget-coverage"}},
 "spec": {"type": "presubmit", "agent": "kubernetes", "job": "pull-widget-coverage", "report": true,
   "context": "pull-widget-coverage", "rerun_command": "/test pull-widget-coverage",
   "refs": {"org": "acme", "repo": "widget", "base_ref": "main", "base_sha": "abc123",
            "pulls": [{"number": 42, "author": "alice", "sha": "def456"}]}$1},
 "status": {"state": "success", "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:10:00Z",
   "build_id": "1790000000000000000",
   "url": "https://prow.example/view/gs/bkt/pr-logs/pull/acme_widget/42/pull-widget-coverage/1790000000000000000"}}
EOF
}

api 200 GET "$PJ_API"
list_rv="$(jget 'd["metadata"]["resourceVersion"]')"
curl -sSN --max-time 120 --cacert "$COVLENS_KUBE_CA_FILE" \
    -H @<(printf 'Authorization: Bearer %s\n' "$COVLENS_KUBE_TOKEN") \
    "$COVLENS_KUBE_SERVER$PJ_API?watch=true&resourceVersion=$list_rv&fieldSelector=metadata.name%3D$NAME&timeoutSeconds=90" \
    >"$TMP/watch" 2>"$TMP/watch.err" &
WATCH_PID=$!

# The CRD's schema is structural and enforced: an unknown field is refused
# under strict validation.
api 400 POST "$PJ_API?fieldValidation=Strict" -H 'Content-Type: application/json' \
    --data-binary "$(prowjob ', "not_a_prowjob_field": 1')"
[[ "$(jget 'd["message"]')" == *'unknown field "spec.not_a_prowjob_field"'* ]] ||
    fail "unknown field refused for another reason: $(cat "$TMP/body")"
ok "strict field validation refuses spec.not_a_prowjob_field"

api 201 POST "$PJ_API?fieldValidation=Strict&fieldManager=covlens-smoke" -H 'Content-Type: application/json' \
    --data-binary "$(prowjob '')"
expect "created state" "$(jget 'd["status"]["state"]')" success
expect "created pull" "$(jget 'd["spec"]["refs"]["pulls"][0]["number"]')" 42
rv1="$(jget 'd["metadata"]["resourceVersion"]')"
ok "created ProwJob $NAME (resourceVersion $rv1)"

# What Crier does after reporting: a JSON merge patch of the main resource,
# here guarded by the resourceVersion the reporter read.
patch() {
    printf '{"metadata": {"resourceVersion": "%s"}, "status": {"prev_report_states": {"covlens": "success"}, "description": "%s"}}' "$1" "$2"
}
api 200 PATCH "$PJ_API/$NAME" -H 'Content-Type: application/merge-patch+json' \
    --data-binary "$(patch "$rv1" "coverage reported")"
rv2="$(jget 'd["metadata"]["resourceVersion"]')"
expect "patched prev_report_states" "$(jget 'd["status"]["prev_report_states"]')" '{"covlens": "success"}'
ok "merge-patched status.prev_report_states (resourceVersion $rv1 -> $rv2)"

api 409 PATCH "$PJ_API/$NAME" -H 'Content-Type: application/merge-patch+json' \
    --data-binary "$(patch "$rv1" "stale")"
ok "a merge patch with the stale resourceVersion $rv1 is refused: 409 Conflict"

api 404 PATCH "$PJ_API/$NAME/status" -H 'Content-Type: application/merge-patch+json' \
    --data-binary '{"status": {"description": "x"}}'
ok "no /status subresource (404), as in Prow"

api 200 GET "$PJ_API/$NAME"
expect "read back prev_report_states" "$(jget 'd["status"]["prev_report_states"]["covlens"]')" success
expect "read back description" "$(jget 'd["status"]["description"]')" "coverage reported"
expect "read back state" "$(jget 'd["status"]["state"]')" success
expect "read back resourceVersion" "$(jget 'd["metadata"]["resourceVersion"]')" "$rv2"
ok "read back: state success, prev_report_states {covlens: success}"

api 200 DELETE "$PJ_API/$NAME"

# watch_events: the event types seen for $NAME so far, one line.
watch_events() {
    python3 - "$TMP/watch" "$NAME" <<'PY'
import json, sys
seen = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    try:
        ev = json.loads(line)
    except ValueError:
        break  # a line still being written
    obj = ev["object"]
    if obj.get("metadata", {}).get("name") != sys.argv[2]:
        continue
    t = ev["type"]
    if t == "MODIFIED" and obj["status"].get("prev_report_states", {}).get("covlens") == "success":
        t = "MODIFIED(prev_report_states)"
    seen.append(t)
print(" ".join(seen))
PY
}
want="ADDED MODIFIED(prev_report_states) DELETED"
for ((i = 0; i < 100; i++)); do
    [[ "$(watch_events)" == "$want" ]] && break
    sleep 0.1
done
expect "watch events" "$(watch_events)" "$want"
kill "$WATCH_PID" 2>/dev/null || true
WATCH_PID=
ok "the watch saw $want"

# ---------------------------------------------------------------- manifests
# dry_run_apply FILE [MUTATION]: server-side apply of every document of the
# YAML FILE with dryRun=All and fieldValidation=Strict; the resource path
# comes from the API server's discovery. MUTATION (Python, on the document
# d) changes each document first. Prints kind/name of each.
dry_run_apply() {
    local file="$1" mutation="${2:-pass}" n=0 kind name path
    "$YAMLJSON" "$file" >"$TMP/docs" || fail "$file: not YAML"
    while IFS= read -r doc; do
        n=$((n + 1))
        printf '%s\n' "$doc" >"$TMP/doc"
        read -r kind name path <<<"$(python3 - "$TMP/doc" "$NS" "$mutation" <<'PY'
import json, os, ssl, sys, urllib.request
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[1], "w"))
gv, kind, name = d["apiVersion"], d["kind"], d["metadata"]["name"]
ctx = ssl.create_default_context(cafile=os.environ["COVLENS_KUBE_CA_FILE"])
base = "/api/" + gv if "/" not in gv else "/apis/" + gv
req = urllib.request.Request(os.environ["COVLENS_KUBE_SERVER"] + base,
    headers={"Authorization": "Bearer " + os.environ["COVLENS_KUBE_TOKEN"]})
res = json.load(urllib.request.urlopen(req, context=ctx))
r = [r for r in res["resources"] if r["kind"] == kind and "/" not in r["name"]]
if not r:
    sys.exit("%s: no resource of kind %s in %s" % (sys.argv[1], kind, gv))
ns = d["metadata"].get("namespace", sys.argv[2])
path = base + ("/namespaces/" + ns if r[0]["namespaced"] else "") + "/" + r[0]["name"] + "/" + name
print(kind, name, path)
PY
)"
        [[ -n "$path" ]] || fail "$file: document $n: no API resource found"
        api "200|201" PATCH "$path?dryRun=All&fieldManager=covlens-smoke&fieldValidation=Strict&force=true" \
            -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$TMP/doc"
        printf '%s/%s\n' "$kind" "$name"
    done <"$TMP/docs"
    ((n > 0)) || fail "$file: no documents"
}

pod_yaml="$REPO/collector/deploy/e2e-pod.yaml"
applied="$(dry_run_apply "$pod_yaml" | paste -sd ' ')"
ok "server-side dry-run apply, strict field validation, of $(basename "$pod_yaml"): $applied"
for obj in $applied; do
    api 404 GET "/api/v1/namespaces/$NS/pods/${obj#Pod/}"
done
ok "dry-run created nothing"

# The same with a typo'd field: strict validation must refuse it, or the
# check above would prove nothing.
if (dry_run_apply "$pod_yaml" 'd["spec"]["containers"][0]["imagePullPolicyy"] = "Always"' >/dev/null 2>"$TMP/typo"); then
    fail "a typo'd field (imagePullPolicyy) was accepted"
fi
# (kube-apiserver v1.36.3 answers such an apply with HTTP 500 "failed to
# create typed patch object ... field not declared in schema", not 400.)
grep -q 'imagePullPolicyy: field not declared in schema' "$TMP/typo" ||
    fail "typo'd field refused for another reason: $(cat "$TMP/typo")"
ok "the same apply with spec.containers[0].imagePullPolicyy is refused (field not declared in schema)"

# ---------------------------------------------------------------- checkconfig
# --strict turns checkconfig's warnings into errors, but its default warnings
# do not look for unknown fields in job configs: unknown-fields-all (with the
# defaults kept) does, and valid-decoration-config checks decorated jobs
# against the Prow config's decoration defaults.
[[ -x "$CHECKCONFIG" ]] || fail "$CHECKCONFIG is missing: run '$TESTENV build checkconfig'"
checkconfig() {
    "$CHECKCONFIG" --strict --include-default-warnings --warnings=unknown-fields-all \
        --warnings=valid-decoration-config \
        --config-path="$REPO/scripts/kube-testenv-prow-config.yaml" --job-config-path="$1" >"$TMP/checkconfig" 2>&1
}
job_yaml="$REPO/collector/deploy/prow-job.yaml"
if ! checkconfig "$job_yaml"; then
    cat "$TMP/checkconfig" >&2
    fail "checkconfig --strict refuses $(basename "$job_yaml")"
fi
ok "checkconfig --strict (unknown fields included) passes $(basename "$job_yaml")"
sed 's/^    decorate: true$/&\n    decorat: true/' "$job_yaml" >"$TMP/typo-job.yaml"
grep -q '^    decorat: true$' "$TMP/typo-job.yaml" || fail "could not make the typo'd job config"
if checkconfig "$TMP/typo-job.yaml"; then
    fail "checkconfig --strict accepts a job config with an unknown field (decorat)"
fi
grep -q 'unknown field \\"decorat\\"' "$TMP/checkconfig" ||
    fail "checkconfig refused the typo'd job for another reason: $(cat "$TMP/checkconfig")"
ok "checkconfig --strict refuses the same job with an unknown field (decorat)"

printf 'smoke: %d passed, 0 failed\n' "$pass"

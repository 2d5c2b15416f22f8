#!/usr/bin/env bash
# A real Kubernetes control plane for tests, without Docker: kube-apiserver
# v1.36.3 and etcd v3.6.16 built from the Go module proxy, started on
# loopback, with Prow's ProwJob CRD installed. The Prow reporter's tests
# (issue 11) run against it; so does scripts/kube-testenv-smoke.sh.
#
#   scripts/kube-testenv.sh build [all|kube-apiserver|etcd|checkconfig|crd]
#   scripts/kube-testenv.sh start | stop | restart [apiserver|etcd|all] | status
#   eval "$(scripts/kube-testenv.sh env)"      # KUBECONFIG=... for the tests
#   scripts/kube-testenv.sh paths              # where binaries, CRD and state are
#
# build (default: all) caches, keyed by version and skipped when present:
#   .tools/kube/kube-apiserver-v1.36.3/kube-apiserver   (/version says v1.36.3)
#   .tools/kube/etcd-v3.6.16/etcd
#   .tools/kube/checkconfig-<prow version>/checkconfig  (Prow's config checker)
#   .tools/kube/prowjob-crd-<prow version>/prowjob-crd.json
#   .tools/kube/yamljson-<version>/yamljson             (YAML -> JSON, used for the CRD)
# next to each its go.mod and go.sum. The ProwJob CRD comes from the module
# cache (sigs.k8s.io/prow), with its string-valued `description` fields
# dropped: the full 3.9 MB file is refused by the API server (413).
# COVLENS_KUBE_TOOLS_DIR overrides .tools/kube.
#
# build all is what .ci/run does: checkconfig is part of it (build
# checkconfig builds only that).
#
# start runs etcd and kube-apiserver on free loopback ports (token auth with
# a random admin token in system:masters, RBAC, a self-signed serving
# certificate from --cert-dir, service-account keys made with openssl; the
# ServiceAccount admission plugin is off, as there is no controller manager
# to create service accounts), waits for /readyz, writes a kubeconfig (token,
# the serving certificate's CA: TLS is verified), applies the CRD server-side
# and waits until it is Established and ProwJobs are served. Running it
# again while the cluster is up does nothing; a dead one is cleaned up and
# started anew. Its state (etcd data, certificates, token, kubeconfig, logs,
# pids) lives in $COVLENS_KUBE_STATE_DIR/cluster, default
# target/kube-testenv/cluster of this checkout (one cluster per checkout, so
# worktrees do not share one). stop kills the two processes by pid (only if
# the pid still runs our binary) and removes that directory. restart stops
# and starts the processes keeping data, ports and credentials (for tests of
# API-server and etcd restarts). env prints, for `eval`: KUBECONFIG,
# COVLENS_KUBE_SERVER, COVLENS_KUBE_TOKEN, COVLENS_KUBE_CA_FILE,
# COVLENS_KUBE_STATE_DIR, COVLENS_KUBE_TESTENV (this script),
# COVLENS_ETCD_ENDPOINT, COVLENS_CHECKCONFIG. Works as a non-root user (with
# a writable state directory). Needs go (build only), python3, curl, openssl,
# setsid, flock.
#
# Measured on the 2-core machine while other helpers compiled Rust (load
# average 6-13), go1.26.8:
#   cold (empty module and build caches), one after the other:
#     etcd 146 s (38 MB), kube-apiserver 788 s (144 MB, 2.2 GB peak RSS),
#     yamljson + CRD 4 s (3.9 MB of YAML -> 344 KB of JSON),
#     checkconfig 490 s (85 MB; after kube-apiserver, so some modules cached)
#     = about 24 min (the issue measured about 12 min on an idle machine)
#   warm Go caches, empty .tools/kube (a fresh clone on the same machine):
#     84 s in all (kube-apiserver 47 s, checkconfig 22 s, etcd 12 s)
#   everything cached: about 1 s
#   start: 13-23 s to ProwJobs served (kube-apiserver ready after 5-9 s,
#     the CRD's apply and establishment most of the rest); restart 4-11 s
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/gomod.sh
source "$REPO/scripts/lib/gomod.sh"

KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
# The pseudo-version of sigs.k8s.io/prow the Go module proxy serves.
PROW_VERSION=v0.0.0-20240619181241-cfb8754e0459
# The x/tools pinned by that prow version does not compile with Go 1.26.
PROW_XTOOLS_VERSION=v0.38.0
YAML_VERSION=v1.4.0
CRD_PATH=config/prow/cluster/prowjob-crd/prowjob_customresourcedefinition.yaml
CRD_NAME=prowjobs.prow.k8s.io
FIELD_MANAGER=covlens-testenv

TOOLS="${COVLENS_KUBE_TOOLS_DIR:-$REPO/.tools/kube}"
STATE="${COVLENS_KUBE_STATE_DIR:-$REPO/target/kube-testenv}"
KUBE_APISERVER="$TOOLS/kube-apiserver-$KUBE_VERSION/kube-apiserver"
ETCD="$TOOLS/etcd-$ETCD_VERSION/etcd"
CHECKCONFIG="$TOOLS/checkconfig-$PROW_VERSION/checkconfig"
CRD_JSON="$TOOLS/prowjob-crd-$PROW_VERSION/prowjob-crd.json"
YAMLJSON="$TOOLS/yamljson-$YAML_VERSION/yamljson"
# Everything start creates, removed by stop.
RUN="$STATE/cluster"
STATE_LOCK=

say() { printf 'kube-testenv: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------- build

need_go() {
    command -v go >/dev/null || die "the Go toolchain ('go') is not on PATH; the test environment is built from the Go module proxy"
    command -v python3 >/dev/null || die "python3 is not on PATH"
}

# build_into NAME DEST_BINARY FUNCTION: unless DEST_BINARY exists, runs
# FUNCTION WORKDIR OUT (which must leave the binary at OUT) in a temporary
# directory beside the cache and moves the result into place, so an
# interrupted build never leaves a half-written binary. One build at a time
# per cache (flock), as helpers and CI may share it.
build_into() {
    local name="$1" dest="$2" fn="$3" dir tmp t0 lockfd
    # Results are moved into place complete: present means built.
    if [[ -s "$dest" ]]; then
        say "$name: $dest already built; skipped"
        return 0
    fi
    need_go
    mkdir -p "$TOOLS"
    exec {lockfd}>"$TOOLS/.build.lock"
    if ! flock -n "$lockfd"; then
        say "$name: waiting for another build in $TOOLS"
        flock "$lockfd"
    fi
    if [[ -s "$dest" ]]; then
        say "$name: $dest built meanwhile; skipped"
        exec {lockfd}>&-
        return 0
    fi
    dir="$(dirname "$dest")"
    tmp="$(mktemp -d "$TOOLS/.build-$name.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    say "$name: building into $dir with $(go version | awk '{print $3}')"
    t0="$(now)"
    mkdir -p "$tmp/out"
    "$fn" "$tmp/module" "$tmp/out/$(basename "$dest")"
    [[ -s "$tmp/out/$(basename "$dest")" ]] || die "$name: the build left no $(basename "$dest")"
    if [[ -f "$tmp/module/go.mod" ]]; then
        cp "$tmp/module/go.mod" "$tmp/module/go.sum" "$tmp/out/"
    fi
    printf 'built %s with %s in %s\n' "$(date -u +%FT%TZ)" "$(go version)" "$(since "$t0")" >"$tmp/out/BUILD-INFO"
    rm -rf "$dir"
    mv "$tmp/out" "$dir"
    rm -rf "$tmp"
    trap - EXIT
    exec {lockfd}>&-
    say "$name: built $dest in $(since "$t0") ($(du -h "$dest" | cut -f1))"
}

build_kube_apiserver_in() {
    local mod="$1" out="$2"
    k8s_command_module "$mod" "$KUBE_VERSION" k8s.io/kubernetes/cmd/kube-apiserver
    (cd "$mod" && CGO_ENABLED=0 go build -ldflags "$(k8s_version_ldflags "$KUBE_VERSION")" -o "$out" \
        k8s.io/kubernetes/cmd/kube-apiserver)
    # Captured, not piped: with pipefail, `grep -q` closing the pipe early
    # fails the pipeline when the binary still writes.
    local says
    says="$("$out" --version)"
    grep -qx "Kubernetes $KUBE_VERSION" <<<"$says" ||
        die "kube-apiserver: built, but --version says '$says', not Kubernetes $KUBE_VERSION"
}

build_etcd_in() {
    local mod="$1" out="$2"
    gomod_init "$mod" covlens.local/etcd
    # etcd's own main is go.etcd.io/etcd/server/v3, whose go.mod has replace
    # directives, so `go install` refuses it: a wrapper main does the same.
    cat >"$mod/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    (
        cd "$mod"
        go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
        go mod tidy
        CGO_ENABLED=0 go build -o "$out" .
    )
    local says
    says="$("$out" --version)"
    grep -qx "etcd Version: ${ETCD_VERSION#v}" <<<"$says" ||
        die "etcd: built, but --version says '$(head -1 <<<"$says")'"
}

build_checkconfig_in() {
    local mod="$1" out="$2"
    gomod_init "$mod" covlens.local/checkconfig
    printf '//go:build tools\n\npackage tools\n\nimport _ "sigs.k8s.io/prow/cmd/checkconfig"\n' >"$mod/tools.go"
    (
        cd "$mod"
        go get "sigs.k8s.io/prow@$PROW_VERSION" "golang.org/x/tools@$PROW_XTOOLS_VERSION"
        go mod tidy
        # go get may not raise a module nothing needs yet; check it did.
        xtools="$(go list -m golang.org/x/tools)"
        [[ "$xtools" == *" $PROW_XTOOLS_VERSION" ]] ||
            die "checkconfig: golang.org/x/tools is $xtools, not $PROW_XTOOLS_VERSION"
        CGO_ENABLED=0 go build -o "$out" sigs.k8s.io/prow/cmd/checkconfig
    )
}

# yamljson [-strip-descriptions] FILE: one line of JSON per YAML document of
# FILE (Kubernetes' YAML rules, sigs.k8s.io/yaml). -strip-descriptions drops
# every string-valued "description" key (the CRD's documentation; a schema
# property named description is an object and stays).
build_yamljson_in() {
    local mod="$1" out="$2"
    gomod_init "$mod" covlens.local/yamljson
    cat >"$mod/main.go" <<'GO'
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"

	"sigs.k8s.io/yaml"
)

func strip(v any) {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["description"].(string); ok {
			delete(t, "description")
		}
		for _, c := range t {
			strip(c)
		}
	case []any:
		for _, c := range t {
			strip(c)
		}
	}
}

func main() {
	stripDescriptions := flag.Bool("strip-descriptions", false, "drop string-valued description keys")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: yamljson [-strip-descriptions] FILE")
		os.Exit(2)
	}
	in, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "yamljson:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i, doc := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(in), -1) {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			fmt.Fprintf(os.Stderr, "yamljson: %s: document %d: %v\n", flag.Arg(0), i+1, err)
			os.Exit(1)
		}
		if v == nil {
			continue
		}
		if *stripDescriptions {
			strip(v)
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(os.Stderr, "yamljson: %s: document %d: %v\n", flag.Arg(0), i+1, err)
			os.Exit(1)
		}
		w.Write(b.Bytes())
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "yamljson:", err)
		os.Exit(1)
	}
}
GO
    (
        cd "$mod"
        go get "sigs.k8s.io/yaml@$YAML_VERSION"
        go mod tidy
        CGO_ENABLED=0 go build -o "$out" .
    )
}

build_crd_in() {
    local mod="$1" out="$2" src n
    [[ -x "$YAMLJSON" ]] || die "crd: $YAMLJSON is missing"
    src="$(gomod_dir "sigs.k8s.io/prow@$PROW_VERSION")/$CRD_PATH"
    [[ -f "$src" ]] || die "crd: $src is missing from the module sigs.k8s.io/prow@$PROW_VERSION"
    mkdir -p "$(dirname "$out")"
    "$YAMLJSON" -strip-descriptions "$src" >"$out"
    n="$(wc -l <"$out")"
    [[ "$n" == 1 ]] || die "crd: $src has $n YAML documents, expected 1"
    python3 - "$out" "$CRD_NAME" <<'PY'
import json, sys
crd = json.load(open(sys.argv[1]))
if crd.get("kind") != "CustomResourceDefinition" or crd["metadata"]["name"] != sys.argv[2]:
    sys.exit("crd: %s is not the CustomResourceDefinition %s" % (sys.argv[1], sys.argv[2]))
PY
    say "crd: $(du -h "$src" | cut -f1) of YAML -> $(du -h "$out" | cut -f1) of JSON without descriptions"
}

cmd_build() {
    local what="${1:-all}" t0
    t0="$(now)"
    case "$what" in
    all)
        build_into etcd "$ETCD" build_etcd_in
        build_into kube-apiserver "$KUBE_APISERVER" build_kube_apiserver_in
        build_into yamljson "$YAMLJSON" build_yamljson_in
        build_into crd "$CRD_JSON" build_crd_in
        build_into checkconfig "$CHECKCONFIG" build_checkconfig_in
        ;;
    kube-apiserver) build_into kube-apiserver "$KUBE_APISERVER" build_kube_apiserver_in ;;
    etcd) build_into etcd "$ETCD" build_etcd_in ;;
    checkconfig) build_into checkconfig "$CHECKCONFIG" build_checkconfig_in ;;
    crd)
        build_into yamljson "$YAMLJSON" build_yamljson_in
        build_into crd "$CRD_JSON" build_crd_in
        ;;
    *) die "build: unknown component '$what' (all, kube-apiserver, etcd, checkconfig, crd)" ;;
    esac
    say "build $what: done in $(since "$t0")"
}

# ---------------------------------------------------------------- run

# pid_alive NAME: the pid recorded for NAME still runs NAME's binary (a
# recycled pid belongs to some other program and is never signalled).
pid_alive() {
    local pidfile="$RUN/$1.pid" bin pid
    [[ -s "$pidfile" ]] || return 1
    pid="$(cat "$pidfile")"
    case "$1" in
    etcd) bin="$ETCD" ;;
    kube-apiserver) bin="$KUBE_APISERVER" ;;
    *) return 1 ;;
    esac
    [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$bin")" ]]
}

# kill_component NAME: SIGTERM, up to 20 s to exit, then SIGKILL.
kill_component() {
    local name="$1" pid i
    if ! pid_alive "$name"; then
        rm -f "$RUN/$name.pid"
        return 0
    fi
    pid="$(cat "$RUN/$name.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        pid_alive "$name" || break
        sleep 0.1
    done
    if pid_alive "$name"; then
        say "$name (pid $pid) ignored SIGTERM for 20 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$RUN/$name.pid"
    say "stopped $name (pid $pid)"
}

# spawn NAME COMMAND...: runs COMMAND in its own session (so it outlives this
# script and its terminal), output to $RUN/NAME.log, pid to $RUN/NAME.pid.
spawn() {
    local name="$1" i
    shift
    rm -f "$RUN/$name.pid"
    # shellcheck disable=SC2016 # expanded by the inner shell
    # The state lock's descriptor is closed: the servers outlive this script
    # and must not hold its lock.
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" \
        </dev/null >>"$RUN/$name.log" 2>&1 {STATE_LOCK}>&- &
    for ((i = 0; i < 50; i++)); do
        [[ -s "$RUN/$name.pid" ]] && pid_alive "$name" && return 0
        sleep 0.1
    done
    die "$name did not start; $RUN/$name.log says:$(printf '\n'; tail -n 20 "$RUN/$name.log")"
}

# wait_for NAME SECONDS COMMAND...: polls COMMAND until it succeeds; fails
# early when NAME's process died, showing its log.
wait_for() {
    local name="$1" secs="$2" deadline
    shift 2
    deadline=$(($(date +%s) + secs))
    until "$@" >/dev/null 2>&1; do
        pid_alive "$name" ||
            die "$name exited; the end of $RUN/$name.log:$(printf '\n'; tail -n 30 "$RUN/$name.log")"
        (($(date +%s) < deadline)) ||
            die "$name not ready after $secs s; the end of $RUN/$name.log:$(printf '\n'; tail -n 30 "$RUN/$name.log")"
        sleep 0.2
    done
}

free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
# Bound together, so the kernel hands out distinct ports.
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

load_config() {
    [[ -f "$RUN/config" ]] || return 1
    # shellcheck source=/dev/null
    source "$RUN/config"
}

etcd_healthy() {
    local health
    health="$(curl -sf --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health")" || return 1
    [[ "$health" == *'"health":"true"'* ]]
}
apiserver_ready() { [[ "$(curl -sk --max-time 3 "https://127.0.0.1:$APISERVER_PORT/readyz")" == ok ]]; }

# kapi METHOD PATH [CURL ARGS...]: an authenticated request to the API server,
# verified against its own CA; prints the body, fails on HTTP errors.
kapi() {
    local method="$1" path="$2"
    shift 2
    curl -sS --fail-with-body --max-time 30 --cacert "$RUN/certs/apiserver.crt" -H "@$RUN/auth-header" \
        -X "$method" "$@" "https://127.0.0.1:$APISERVER_PORT$path"
}

start_etcd() {
    spawn etcd "$ETCD" --name covlens-testenv --data-dir "$RUN/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "covlens-testenv=http://127.0.0.1:$ETCD_PEER_PORT" \
        --unsafe-no-fsync --log-level warn
    wait_for etcd 60 etcd_healthy
}

start_apiserver() {
    # The ServiceAccount admission plugin would refuse every pod: there is no
    # controller manager to create the namespaces' default service accounts.
    spawn kube-apiserver "$KUBE_APISERVER" \
        --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
        --cert-dir "$RUN/certs" \
        --token-auth-file "$RUN/tokens.csv" \
        --authorization-mode RBAC \
        --service-cluster-ip-range 10.0.0.0/24 \
        --service-account-issuer "https://127.0.0.1:$APISERVER_PORT" \
        --service-account-key-file "$RUN/sa.pub" \
        --service-account-signing-key-file "$RUN/sa.key" \
        --disable-admission-plugins ServiceAccount \
        --profiling=false
    wait_for kube-apiserver 180 apiserver_ready
}

write_kubeconfig() {
    local f="$RUN/kubeconfig"
    cat >"$f.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: covlens-testenv
    cluster:
      server: https://127.0.0.1:$APISERVER_PORT
      certificate-authority: $RUN/certs/apiserver.crt
users:
  - name: covlens-admin
    user:
      token: $TOKEN
contexts:
  - name: covlens-testenv
    context: {cluster: covlens-testenv, user: covlens-admin, namespace: default}
current-context: covlens-testenv
EOF
    chmod 600 "$f.tmp"
    mv "$f.tmp" "$f"
    cat >"$RUN/env" <<EOF
export KUBECONFIG=$RUN/kubeconfig
export COVLENS_KUBE_SERVER=https://127.0.0.1:$APISERVER_PORT
export COVLENS_KUBE_TOKEN=$TOKEN
export COVLENS_KUBE_CA_FILE=$RUN/certs/apiserver.crt
export COVLENS_KUBE_STATE_DIR=$STATE
export COVLENS_KUBE_TESTENV=$REPO/scripts/kube-testenv.sh
export COVLENS_ETCD_ENDPOINT=http://127.0.0.1:$ETCD_CLIENT_PORT
export COVLENS_CHECKCONFIG=$CHECKCONFIG
EOF
}

crd_established() {
    kapi GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$CRD_NAME" | python3 -c '
import json, sys
conds = json.load(sys.stdin).get("status", {}).get("conditions", [])
sys.exit(0 if any(c["type"] == "Established" and c["status"] == "True" for c in conds) else 1)'
}

apply_crd() {
    kapi PATCH "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$CRD_NAME?fieldManager=$FIELD_MANAGER&force=true" \
        -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$CRD_JSON" -o "$RUN/crd-apply.json" ||
        die "the API server refused $CRD_JSON: $(head -c 3000 "$RUN/crd-apply.json")"
    wait_for kube-apiserver 60 crd_established
}

# Established, or /readyz after a restart, comes before the resource's
# storage is ready: until then requests get 429 "storage is (re)initializing".
wait_prowjobs() {
    wait_for kube-apiserver 60 kapi GET "/apis/prow.k8s.io/v1/prowjobs?limit=1"
}

running() {
    load_config 2>/dev/null && pid_alive etcd && pid_alive kube-apiserver && apiserver_ready
}

# lock_state: one start, stop or restart at a time per state directory.
lock_state() {
    mkdir -p "$STATE"
    exec {STATE_LOCK}>"$STATE/.lock"
    flock "$STATE_LOCK"
}

cmd_start() {
    local t0
    t0="$(now)"
    for b in "$KUBE_APISERVER" "$ETCD" "$CRD_JSON"; do
        [[ -e "$b" ]] || die "$b is missing: run '$0 build' first"
    done
    for tool in curl openssl python3 setsid flock; do
        command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
    done
    lock_state
    if running; then
        say "already running: https://127.0.0.1:$APISERVER_PORT (state in $RUN)"
        return 0
    fi
    if [[ -e "$RUN" ]]; then
        say "cleaning up a previous cluster that is not running"
        stop_all
    fi
    mkdir -p "$RUN"
    chmod 700 "$RUN"
    trap 'if (($? != 0)); then say "start failed; stopping what was started"; stop_all; fi' EXIT
    read -r ETCD_CLIENT_PORT ETCD_PEER_PORT APISERVER_PORT <<<"$(free_ports 3)"
    TOKEN="$(openssl rand -hex 24)"
    cat >"$RUN/config" <<EOF
ETCD_CLIENT_PORT=$ETCD_CLIENT_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
TOKEN=$TOKEN
EOF
    (
        umask 077
        echo "$TOKEN,covlens-admin,covlens-admin,system:masters" >"$RUN/tokens.csv"
        printf 'Authorization: Bearer %s\n' "$TOKEN" >"$RUN/auth-header"
        openssl genrsa -out "$RUN/sa.key" 2048 2>/dev/null
        openssl rsa -in "$RUN/sa.key" -pubout -out "$RUN/sa.pub" 2>/dev/null
    )
    start_etcd
    say "etcd $ETCD_VERSION up on 127.0.0.1:$ETCD_CLIENT_PORT after $(since "$t0")"
    start_apiserver
    say "kube-apiserver $KUBE_VERSION ready on https://127.0.0.1:$APISERVER_PORT after $(since "$t0")"
    write_kubeconfig
    # The serving certificate's CA (in apiserver.crt) verifies the server:
    # the kubeconfig needs no insecure-skip-tls-verify.
    kapi GET /version >/dev/null
    apply_crd
    say "ProwJob CRD Established after $(since "$t0")"
    wait_prowjobs
    trap - EXIT
    say "ProwJobs served after $(since "$t0"); kubeconfig: $RUN/kubeconfig"
    say "use: eval \"\$($0 env)\""
}

# stop_all: kills both processes and removes the state start created.
stop_all() {
    kill_component kube-apiserver
    kill_component etcd
    # Only what start created: the state directory may be a shared one.
    rm -rf "$RUN"
}

cmd_stop() {
    if [[ ! -e "$RUN" ]]; then
        say "not running (no $RUN)"
        return 0
    fi
    lock_state
    stop_all
    say "stopped; removed $RUN"
}

cmd_restart() {
    local what="${1:-all}" t0
    t0="$(now)"
    lock_state
    load_config || die "not started (no $RUN/config)"
    case "$what" in
    apiserver)
        kill_component kube-apiserver
        start_apiserver
        ;;
    etcd)
        kill_component etcd
        start_etcd
        wait_for kube-apiserver 60 apiserver_ready
        ;;
    all)
        kill_component kube-apiserver
        kill_component etcd
        start_etcd
        start_apiserver
        ;;
    *) die "restart: unknown component '$what' (apiserver, etcd, all)" ;;
    esac
    wait_prowjobs
    say "restarted $what; ready after $(since "$t0")"
}

cmd_env() {
    [[ -f "$RUN/env" ]] || die "not started: run '$0 start' first"
    cat "$RUN/env"
}

cmd_status() {
    local ok=0
    if ! load_config 2>/dev/null; then
        echo "not started (no $RUN)"
        return 1
    fi
    for c in etcd kube-apiserver; do
        if pid_alive "$c"; then
            echo "$c: running, pid $(cat "$RUN/$c.pid")"
        else
            echo "$c: not running"
            ok=1
        fi
    done
    if apiserver_ready; then
        echo "https://127.0.0.1:$APISERVER_PORT/readyz: ok"
        echo "version: $(kapi GET /version | python3 -c 'import json, sys; print(json.load(sys.stdin)["gitVersion"])')"
        if crd_established; then echo "$CRD_NAME: Established"; else
            echo "$CRD_NAME: not established"
            ok=1
        fi
    else
        echo "https://127.0.0.1:$APISERVER_PORT/readyz: not ready"
        ok=1
    fi
    echo "kubeconfig: $RUN/kubeconfig"
    return "$ok"
}

case "${1:-}" in
build) cmd_build "${2:-all}" ;;
start) cmd_start ;;
stop) cmd_stop ;;
restart) cmd_restart "${2:-all}" ;;
env) cmd_env ;;
status) cmd_status ;;
paths)
    printf 'kube-apiserver=%s\netcd=%s\ncheckconfig=%s\ncrd=%s\nyamljson=%s\nstate=%s\n' \
        "$KUBE_APISERVER" "$ETCD" "$CHECKCONFIG" "$CRD_JSON" "$YAMLJSON" "$STATE"
    ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac

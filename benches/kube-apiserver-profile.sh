#!/usr/bin/env bash
# Builds kube-apiserver with coverage the way a Kubernetes e2e job would
# (-cover -coverpkg=k8s.io/...), runs it once so it writes its coverage
# meta-data, and converts that to a text profile: every block of the binary,
# all counts zero. This is the "Kubernetes-sized profile" of the collector
# benchmark (benches/collector.sh takes it through COVLENS_BENCH_PROFILE).
#
#   benches/kube-apiserver-profile.sh [VERSION]    (default 1.34.4)
#
# Writes target/bench-data/kube-apiserver-<VERSION>.cov and prints its size.
# Needs the Go module proxy; about 5 minutes and 3 GB of module cache on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
v="${1:-1.34.4}"
minor="${v#1.}"
out="$PWD/target/bench-data"
work="$out/kube-apiserver-$v"
mkdir -p "$work"
cd "$work"
if [ ! -x kube-apiserver-cover ]; then
    rm -f go.mod go.sum tools.go
    go mod init covlens.local/kas >/dev/null 2>&1
    gomod=$(go mod download -json "k8s.io/kubernetes@v$v" | python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')
    # k8s.io/kubernetes requires its staging modules at v0.0.0; they are
    # published as v0.<minor>.
    for m in $(awk '/^\tk8s.io\/[a-z0-9-]+ v0.0.0$/ {print $1}' "$gomod" | sort -u); do
        go mod edit -replace="$m=$m@v0.$minor"
    done
    printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
    go get "k8s.io/kubernetes/cmd/kube-apiserver@v$v"
    go mod tidy
    CGO_ENABLED=0 go build -cover -covermode=count -coverpkg='k8s.io/...' -o kube-apiserver-cover \
        k8s.io/kubernetes/cmd/kube-apiserver
fi
rm -rf gocoverdir && mkdir gocoverdir
GOCOVERDIR="$PWD/gocoverdir" ./kube-apiserver-cover --version
go tool covdata textfmt -i gocoverdir -o "$out/kube-apiserver-$v.cov"
awk -v f="$out/kube-apiserver-$v.cov" 'END {
    printf "%s: %d blocks", f, NR - 1
}' "$out/kube-apiserver-$v.cov"
cut -d: -f1 "$out/kube-apiserver-$v.cov" | tail -n +2 | sort -u | wc -l | awk '{printf ", %d files", $1}'
ls -l "$out/kube-apiserver-$v.cov" | awk '{printf ", %.1f MB\n", $5 / 1e6}'

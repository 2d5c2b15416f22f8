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
# shellcheck source-path=SCRIPTDIR source=../scripts/lib/gomod.sh
source scripts/lib/gomod.sh
v="${1:-1.34.4}"
out="$PWD/target/bench-data"
work="$out/kube-apiserver-$v"
mkdir -p "$work"
if [ ! -x "$work/kube-apiserver-cover" ]; then
    # A throw-away module requiring k8s.io/kubernetes with its staging
    # modules replaced by their published versions (shared with
    # scripts/kube-testenv.sh).
    k8s_command_module "$work/module" "$v" k8s.io/kubernetes/cmd/kube-apiserver
    (cd "$work/module" && CGO_ENABLED=0 go build -cover -covermode=count -coverpkg='k8s.io/...' \
        -o "$work/kube-apiserver-cover" k8s.io/kubernetes/cmd/kube-apiserver)
fi
cd "$work"
rm -rf gocoverdir && mkdir gocoverdir
GOCOVERDIR="$PWD/gocoverdir" ./kube-apiserver-cover --version
go tool covdata textfmt -i gocoverdir -o "$out/kube-apiserver-$v.cov"
awk -v f="$out/kube-apiserver-$v.cov" 'END {
    printf "%s: %d blocks", f, NR - 1
}' "$out/kube-apiserver-$v.cov"
cut -d: -f1 "$out/kube-apiserver-$v.cov" | tail -n +2 | sort -u | wc -l | awk '{printf ", %d files", $1}'
ls -l "$out/kube-apiserver-$v.cov" | awk '{printf ", %.1f MB\n", $5 / 1e6}'

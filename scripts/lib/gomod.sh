# shellcheck shell=bash
# Sourced by scripts that build Go programs from the Go module proxy in a
# throw-away module (scripts/kube-testenv.sh, benches/kube-apiserver-profile.sh).
# Defines functions only; the caller has `set -euo pipefail`.

# gomod_init DIR MODULE: an empty module named MODULE in DIR (DIR is emptied).
gomod_init() {
    local dir="$1" name="$2"
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && go mod init "$name" >/dev/null 2>&1)
}

# gomod_dir MODULE@VERSION: prints where the module's files are in the module
# cache (downloading it first when needed).
gomod_dir() {
    go mod download -json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'
}

# k8s_staging_version VERSION: 1.36.3 or v1.36.3 -> v0.36.3, the tag of the
# staging modules (k8s.io/api, ...) published with Kubernetes v1.36.3.
k8s_staging_version() {
    local v="${1#v}"
    echo "v0.${v#1.}"
}

# k8s_replace_staging VERSION: in the module in the current directory, replace
# every module k8s.io/kubernetes@VERSION requires at exactly v0.0.0 (its
# staging modules, which it replaces with ./staging/... in its own build; those
# replaces are ignored in a dependency and v0.0.0 does not exist) with the
# published v0.X.Y. Modules with real pseudo-versions (k8s.io/utils,
# k8s.io/kube-openapi, ...) are left alone.
k8s_replace_staging() {
    local v="v${1#v}" gomod staging m n=0
    staging="$(k8s_staging_version "$v")"
    gomod="$(go mod download -json "k8s.io/kubernetes@$v" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')"
    for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" && NF == 2 {print $1}' "$gomod" | sort -u); do
        go mod edit -replace="$m=$m@$staging"
        n=$((n + 1))
    done
    if [[ "$n" == 0 ]]; then
        echo "k8s_replace_staging: no staging module at v0.0.0 in $gomod" >&2
        return 1
    fi
}

# k8s_command_module DIR VERSION PACKAGE: DIR becomes a module that builds
# PACKAGE (e.g. k8s.io/kubernetes/cmd/kube-apiserver) of k8s.io/kubernetes at
# VERSION, with the staging replaces above and a complete go.sum.
k8s_command_module() {
    local dir="$1" v="v${2#v}" pkg="$3"
    gomod_init "$dir" covlens.local/k8s-command
    (
        cd "$dir" || exit
        k8s_replace_staging "$v"
        printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >tools.go
        go get "$pkg@$v"
        go mod tidy
    )
}

# k8s_version_ldflags VERSION: the -ldflags that make a binary built from the
# module report VERSION (`--version`, the API server's /version); without
# them it reports v0.0.0-master.
k8s_version_ldflags() {
    local v="v${1#v}" minor
    minor="${v#v1.}"
    minor="${minor%%.*}"
    printf '%s' "-X k8s.io/component-base/version.gitVersion=$v" \
        " -X k8s.io/component-base/version.gitMajor=1" \
        " -X k8s.io/component-base/version.gitMinor=$minor" \
        " -X k8s.io/component-base/version.gitTreeState=clean"
}

#!/usr/bin/env bash
# Installs what covlens' tests and demo need beyond Rust and Go, idempotently:
# - the gopherage oracle, built from the Go module proxy into .tools/bin/;
# - gofakes3, the object store the collector's gs:// and s3:// tests use;
# - Debian's chromium for the HTML report checks and cmark-gfm (GitHub's
#   Markdown renderer) for the PR comment checks (skipped when present, or
#   when COVLENS_SKIP_APT=1);
# - Debian's postgresql server for the history store's tests (same rules).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo go; do
    command -v "$tool" >/dev/null || { echo "setup: '$tool' is not on PATH" >&2; exit 1; }
done
scripts/install-gopherage.sh
scripts/install-gofakes3.sh

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v cmark-gfm >/dev/null || missing+=(cmark-gfm)
if (( ${#missing[@]} )) && [[ "${COVLENS_SKIP_APT:-0}" != 1 ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian's ${missing[*]} for the report tests"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: ${missing[*]} missing and cannot be installed here; the tests that need them will fail"
    fi
fi

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && [[ "${COVLENS_SKIP_APT:-0}" != 1 ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian's postgresql for the history store tests"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "setup: postgresql is missing and cannot be installed here; the history store's postgres tests will fail" >&2
    fi
fi

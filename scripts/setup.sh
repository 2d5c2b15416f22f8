#!/usr/bin/env bash
# Installs what covlens' tests and demo need beyond Rust and Go, idempotently:
# - the gopherage oracle, built from the Go module proxy into .tools/bin/;
# - gofakes3, the object store the collector's gs:// and s3:// tests use;
# - Debian's chromium for the HTML report checks (skipped when present, or
#   when COVLENS_SKIP_APT=1);
# - Debian's postgresql server for the history store's tests (same rules).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo go; do
    command -v "$tool" >/dev/null || { echo "setup: '$tool' is not on PATH" >&2; exit 1; }
done
scripts/install-gopherage.sh
scripts/install-gofakes3.sh

if ! command -v chromium >/dev/null && [[ "${COVLENS_SKIP_APT:-0}" != 1 ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian's chromium for the report tests"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "setup: chromium is missing and cannot be installed here; browser checks will skip"
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

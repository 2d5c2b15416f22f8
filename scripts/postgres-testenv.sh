#!/usr/bin/env bash
# A throwaway PostgreSQL server for the history store's tests and benches:
# Debian's `postgresql` binaries (initdb, pg_ctl), a data directory and a
# Unix socket in a temporary directory, no TCP.
#
#   scripts/postgres-testenv.sh start   # idempotent; waits until it accepts connections
#   scripts/postgres-testenv.sh env     # prints: export COVLENS_TEST_POSTGRES=postgresql:///postgres?host=DIR&user=covlens
#   scripts/postgres-testenv.sh stop    # stops it and removes the directory
#
# The directory is per checkout (COVLENS_PG_DIR overrides it). As root the
# server runs as the `postgres` user (initdb refuses root), created if
# missing. The superuser is `covlens`, trusted on the socket only.
set -euo pipefail
cd "$(dirname "$0")/.."

base="${COVLENS_PG_DIR:-${TMPDIR:-/tmp}/covlens-pg-$(pwd -P | cksum | cut -d' ' -f1)}"
data="$base/data"
sock="$base/sock"
log="$base/server.log"

bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -z "$d" || ! -x "$d/initdb" ]]; then
        echo "postgres-testenv: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin;" \
            "install Debian's postgresql package (scripts/setup.sh does)" >&2
        exit 1
    fi
    echo "$d"
}

# Runs a command as the server's owner.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

owner="$(id -un)"
if [[ "$(id -u)" == 0 ]]; then
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
fi

url="postgresql:///postgres?host=$sock&user=covlens"

case "${1:-}" in
start)
    bin="$(bindir)"
    if [[ -f "$data/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        exit 0
    fi
    mkdir -p "$base"
    chmod 755 "$base"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        rm -rf "$data"
        mkdir -p "$data" "$sock"
        chown "$owner" "$data" "$sock"
        chmod 700 "$data"
        chmod 755 "$sock"
        as_owner "$bin/initdb" -D "$data" -U covlens --auth=trust --encoding=UTF8 --locale=C >"$base/initdb.log" 2>&1 \
            || { cat "$base/initdb.log" >&2; exit 1; }
    fi
    touch "$log"
    chown "$owner" "$log"
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-c listen_addresses= -k $sock -c max_connections=200" start >/dev/null \
        || { cat "$log" >&2; exit 1; }
    ;;
env)
    printf 'export COVLENS_TEST_POSTGRES=%q\n' "$url"
    ;;
stop)
    if [[ -f "$data/postmaster.pid" ]]; then
        as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$base"
    ;;
*)
    echo "usage: $0 start|env|stop" >&2
    exit 2
    ;;
esac

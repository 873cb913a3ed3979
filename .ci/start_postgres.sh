#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the shared-study tests, and print its
# SQLAlchemy URL (for the psycopg2 driver, psycopg2-binary in the `test` extra) on stdout.
#   .ci/start_postgres.sh [DATA_DIR] [PORT]     start (or reuse) the server in DATA_DIR
#   .ci/start_postgres.sh --stop [DATA_DIR]     stop it
# Installs the distribution's server package when none is found (needs apt and root). As
# root the server runs as the unprivileged user skdirpg (PostgreSQL refuses to run as root).
set -euo pipefail

find_bin() {
    command -v "$1" 2>/dev/null && return 0
    ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}
RUN=()
if [ "$(id -u)" = "0" ]; then
    RUN=(runuser -u skdirpg --)
fi

if [ "${1:-}" = "--stop" ]; then
    DATA_DIR="${2:-/tmp/skdir-postgres}"
    PG_CTL="$(find_bin pg_ctl || true)"
    if [ -n "$PG_CTL" ] && "${RUN[@]}" "$PG_CTL" -D "$DATA_DIR" status >/dev/null 2>&1; then
        "${RUN[@]}" "$PG_CTL" -D "$DATA_DIR" stop -m fast >/dev/null
    fi
    exit 0
fi
DATA_DIR="${1:-/tmp/skdir-postgres}"
PORT="${2:-54329}"

if [ -z "$(find_bin initdb)" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    else
        echo "PostgreSQL is not installed and cannot be installed here (need root and apt)." >&2
        exit 1
    fi
fi
INITDB="$(find_bin initdb)"
PG_CTL="$(find_bin pg_ctl)"

if [ "$(id -u)" = "0" ]; then
    id skdirpg >/dev/null 2>&1 || useradd --system --no-create-home skdirpg
fi
mkdir -p "$DATA_DIR"
[ "$(id -u)" = "0" ] && chown skdirpg "$DATA_DIR"
if [ ! -f "$DATA_DIR/PG_VERSION" ]; then
    "${RUN[@]}" "$INITDB" -D "$DATA_DIR" -U skdir --auth=trust >/dev/null
fi
if ! "${RUN[@]}" "$PG_CTL" -D "$DATA_DIR" status >/dev/null 2>&1; then
    "${RUN[@]}" "$PG_CTL" -D "$DATA_DIR" -l "$DATA_DIR/server.log" -w \
        -o "-p $PORT -k $DATA_DIR -c listen_addresses=127.0.0.1" start >/dev/null
fi
echo "postgresql+psycopg2://skdir@127.0.0.1:$PORT/postgres"

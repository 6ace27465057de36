#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the store's Postgres
# tests (Debian's package, installed when missing) and prints the variables
# the tests read. Usage: eval "$(bash .ci/postgres.sh)"
set -euo pipefail

PORT="${PT_PG_PORT:-55432}"
DIR="${PT_PG_DIR:-/tmp/pt-ci-postgres}"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [ -z "$(bindir)" ]; then
    echo "installing Debian's postgresql" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN="$(bindir)"

# The server refuses to run as root: it runs as the package's user.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -f "$DIR/data/postmaster.pid" ]; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s\n' "$PASSWORD" > "$DIR/pwfile"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$DIR"; fi
chmod 700 "$DIR"
as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --pwfile="$DIR/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 >/dev/null
rm -f "$DIR/pwfile"
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200" \
    start >&2

echo "export PT_TEST_POSTGRES='postgres://postgres@127.0.0.1:$PORT/postgres'"
echo "export PT_TEST_POSTGRES_PASSWORD='$PASSWORD'"
echo "export PT_REQUIRE_POSTGRES=1"

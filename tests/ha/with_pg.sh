#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL primary, and with --standby
# a streaming standby beside it:
#   tests/ha/with_pg.sh [--standby] COMMAND [ARGS...]
# The command sees ATTEST_TEST_STORE_URI (primary), PG_TEST_STANDBY_URI,
# PG_TEST_PRIMARY_DIR, PG_TEST_STANDBY_DIR and PG_BIN. Exits 77 (skipped)
# when PostgreSQL is not installed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg.sh"
if ! pg_available; then
  echo "SKIP: PostgreSQL server binaries not found (scripts/setup.sh installs them)"
  exit 77
fi
want_standby=0
if [ "${1:-}" = "--standby" ]; then want_standby=1; shift; fi
tmp=$(mktemp -d /tmp/attest-pg-XXXXXX)
chmod 755 "$tmp"
trap 'pg_stop_all; rm -rf "$tmp"' EXIT

started=0
for attempt in 1 2 3 4 5; do
  port=$(( 20000 + (RANDOM % 20000) ))
  if pg_start_primary "$tmp/primary$attempt" "$port" 2>"$tmp/err"; then started=1; break; fi
done
[ "$started" = 1 ] || { cat "$tmp/err" >&2; exit 1; }
primary_dir="$tmp/primary$attempt"
primary_port=$port
standby_port=$(( primary_port + 1 ))
if [ "$want_standby" = 1 ]; then
  # Asynchronous until a test asks for synchronous_standby_names (the fail-over test does).
  pg_start_standby "$tmp/standby" "$standby_port" "$primary_port" || exit 1
fi

export ATTEST_TEST_STORE_URI="$PG_PRIMARY_URI"
export PG_TEST_STANDBY_URI="postgresql://postgres@127.0.0.1:$standby_port/attestd?connect_timeout=2"
export PG_TEST_PRIMARY_DIR="$primary_dir" PG_TEST_STANDBY_DIR="$tmp/standby" PG_BIN
"$@"

#!/usr/bin/env bash
# A throw-away PostgreSQL for tests: a primary, and a streaming standby when
# asked, on loopback ports, in a temporary folder, as the unprivileged
# `postgres` user (initdb refuses root). Sourced by the HA tests:
#   . tests/ha/pg.sh
#   pg_start_primary DIR PORT        -> prints nothing; sets PG_PRIMARY_URI
#   pg_start_standby DIR PORT PRIMARY_PORT
#   pg_promote DIR; pg_stop DIR; pg_stop_all
set -u
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIRS=()

pg_as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_available() { [ -x "$PG_BIN/initdb" ] && { [ "$(id -u)" -ne 0 ] || id postgres >/dev/null 2>&1; }; }

# Waits until the server on PORT accepts connections (10 s at most).
pg_wait() {
  local port=$1 i
  for i in $(seq 1 100); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0
    sleep 0.1
  done
  echo "pg.sh: PostgreSQL on port $port did not start" >&2
  return 1
}

pg_start_primary() {
  local dir=$1 port=$2
  mkdir -p "$dir" && chown postgres: "$dir" 2>/dev/null; chmod 700 "$dir"
  pg_as "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = on
full_page_writes = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
CONF
  echo "host replication postgres 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 20 start >/dev/null || {
    cat "$dir/server.log" >&2; return 1; }
  PG_DIRS+=("$dir")
  pg_wait "$port" || return 1
  pg_as "$PG_BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE attestd" >/dev/null
  PG_PRIMARY_URI="postgresql://postgres@127.0.0.1:$port/attestd?connect_timeout=2"
  export PG_PRIMARY_URI
}

pg_start_standby() {
  local dir=$1 port=$2 primary_port=$3
  mkdir -p "$dir" && chown postgres: "$dir" 2>/dev/null; chmod 700 "$dir"
  pg_as "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/data" -R -X stream -c fast \
    >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
  sed -i "s/^port = .*/port = $port/; s|^unix_socket_directories = .*|unix_socket_directories = '$dir'|" \
    "$dir/data/postgresql.conf"
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 20 start >/dev/null || {
    cat "$dir/server.log" >&2; return 1; }
  PG_DIRS+=("$dir")
  pg_wait "$port"
}

pg_promote() { pg_as "$PG_BIN/pg_ctl" -D "$1/data" -w -t 20 promote >/dev/null; }

pg_stop() { pg_as "$PG_BIN/pg_ctl" -D "$1/data" -m "${2:-fast}" -w -t 20 stop >/dev/null 2>&1 || true; }

pg_stop_all() {
  local d
  for d in "${PG_DIRS[@]}"; do pg_stop "$d" immediate; done
}

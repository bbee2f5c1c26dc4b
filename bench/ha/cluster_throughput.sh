#!/usr/bin/env bash
# Attestation throughput of 1, 2 and 3 attestd nodes on one PostgreSQL behind
# haproxy (issue 11), with wrk on loopback. Reports; asserts nothing.
# Run inside tests/ha/with_pg.sh:
#   tests/ha/with_pg.sh bench/ha/cluster_throughput.sh BUILD_DIR [SECONDS]
# All nodes share this machine's cores: the figure shows what the cluster
# layer costs, not what more machines would add.
set -euo pipefail
build=$(cd "$1" && pwd)
secs=${2:-5}
ctl=$build/src/cli/attestctl
tmp=$(mktemp -d /tmp/attest-hab-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 0; }

"$ctl" dev init --dir "$tmp/dp" >/dev/null
"$ctl" dev evidence sgx --dir "$tmp/dp" -o "$tmp/q.bin"
python3 - "$tmp/q.bin" >"$tmp/post.lua" <<'PY'
import base64, json, sys
q = base64.urlsafe_b64encode(open(sys.argv[1], "rb").read()).decode().rstrip("=")
body = json.dumps({"quote": q})
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print("wrk.body = %s" % json.dumps(body))
PY
for n in 1 2 3; do
  "$build/src/server/attestd" --dev --data "$tmp/n$n" --port 0 --port-file "$tmp/n$n.port" --workers 1 \
    --store "$ATTEST_TEST_STORE_URI" --kek "$tmp/kek.bin" --log-level error \
    --trust-roots "$tmp/dp/roots.pem" --collateral-dir "$tmp/dp/collateral" >"$tmp/n$n.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$tmp/n$n.port" ] && break; sleep 0.1; done
done
echo "nodes  attestations/s  (haproxy, wrk 2 threads 16 connections, ${secs}s, 1 worker per node)"
for count in 1 2 3; do
  port=$(( 30000 + RANDOM % 20000 ))
  {
    printf 'global\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n'
    printf 'frontend fe\n  bind 127.0.0.1:%s\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n' "$port"
    for n in $(seq 1 "$count"); do printf '  server n%s 127.0.0.1:%s ssl verify none\n' "$n" "$(cat "$tmp/n$n.port")"; done
  } >"$tmp/h$count.cfg"
  haproxy -db -f "$tmp/h$count.cfg" >/dev/null 2>&1 &
  hp=$!
  sleep 0.5
  rps=$(wrk -t2 -c16 -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$port/attest/SgxEnclave?api-version=2022-08-01" |
    awk '/Requests\/sec/ {print $2}')
  kill "$hp" 2>/dev/null || true
  printf '%5d  %14s\n' "$count" "$rps"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Three attestd nodes on one PostgreSQL, behind haproxy, under a steady
# attest load (issue 11). Run inside tests/ha/with_pg.sh:
#   tests/ha/with_pg.sh tests/ha/haproxy_cluster.sh BUILD_DIR
# Checks, each with a measured figure:
#   1. a policy set through one node is enforced by every node within a second;
#   2. SIGKILL of one node loses no request (haproxy retries what it can);
#   3. with PostgreSQL stopped, attestation keeps answering from the nodes'
#      caches, management writes fail cleanly (503), /readyz says so, and
#      everything recovers when the database returns.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
vectors=${ATTEST_VECTORS:-$src/../shared/vectors}
vec=$vectors/sgx/phala-sgx-v3-00a067110000-2023-11
attestd=$build/src/server/attestd
ctl=$build/src/cli/attestctl
for need in haproxy curl; do
  command -v "$need" >/dev/null || { echo "SKIP: $need is not installed"; exit 77; }
done
[ -f "$vec/quote.bin" ] || { echo "SKIP: $vec is absent"; exit 77; }
[ -n "${ATTEST_TEST_STORE_URI:-}" ] || { echo "SKIP: run inside tests/ha/with_pg.sh"; exit 77; }

tmp=$(mktemp -d /tmp/attest-ha-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/n*.log; do echo "--- $f"; tail -5 "$f"; done; exit 1; }

now=$(python3 -c "import json;print(json.load(open('$vec/bundle.json'))['now_unix'])")
# A port the kernel hands out as free (a random one could be another server's: attestd binds port 0 too).
lb_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

start_node() { # n
  local n=$1
  "$attestd" --dev --data "$tmp/n$n" --port 0 --port-file "$tmp/n$n.port" --store "$ATTEST_TEST_STORE_URI" \
    --kek "$tmp/kek.bin" --public-url "http://127.0.0.1:$lb_port" --test-fixed-time "$now" \
    --collateral-dir "$vec" --bootstrap-admin-file "$tmp/admin$n" >"$tmp/n$n.log" 2>&1 &
  pids[$n]=$!
  for _ in $(seq 1 100); do [ -s "$tmp/n$n.port" ] && return 0; sleep 0.1; done
  fail "node $n did not start"
}
port_of() { cat "$tmp/n$1.port"; }

for n in 1 2 3; do start_node "$n"; done
admin=$(cat "$tmp"/admin* 2>/dev/null | head -1)
[ -n "$admin" ] || fail "no bootstrap credential was written"

cat >"$tmp/haproxy.cfg" <<CFG
global
  maxconn 2000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 10s
  retries 3
  option redispatch
  retry-on conn-failure empty-response response-timeout
frontend fe
  bind 127.0.0.1:$lb_port
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /healthz
  default-server ssl verify none check inter 200ms fall 1 rise 1
  server n1 127.0.0.1:$(port_of 1)
  server n2 127.0.0.1:$(port_of 2)
  server n3 127.0.0.1:$(port_of 3)
CFG
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
pids[9]=$!
for _ in $(seq 1 100); do
  kill -0 "${pids[9]}" 2>/dev/null || { cat "$tmp/haproxy.log" >&2; fail "haproxy exited"; }
  (echo >"/dev/tcp/127.0.0.1/$lb_port") 2>/dev/null && break
  sleep 0.1
done

# The attest request: the real quote at its bundle's time, through the balancer.
python3 - "$vec/quote.bin" >"$tmp/req.json" <<'PY'
import base64, json, sys
q = open(sys.argv[1], "rb").read()
print(json.dumps({"quote": base64.urlsafe_b64encode(q).decode().rstrip("=")}))
PY
attest() { # url -> http status (000 when nothing answered: a status to retry on, not an exit under set -e)
  curl -s -o /dev/null -w '%{http_code}' -k -H 'Content-Type: application/json' --data-binary @"$tmp/req.json" \
    "$1/attest/SgxEnclave?api-version=2022-08-01" || true
}
lb=http://127.0.0.1:$lb_port
# haproxy marks the nodes up after its first health checks: on a loaded machine that can take seconds.
for _ in $(seq 1 100); do st=$(attest "$lb"); [ "$st" = 200 ] && break; sleep 0.2; done
[ "$st" = 200 ] || { cat "$tmp/haproxy.log" >&2; fail "attestation through the balancer answers $st, not 200"; }

# A steady load: 3 clients, each in a loop, recording every status.
load() { # file
  while [ ! -e "$tmp/stop" ]; do echo "$(attest "$lb")" >>"$1"; done
}
for c in 1 2 3; do load "$tmp/load$c.txt" & pids[$((10 + c))]=$!; done
sleep 2

# 1. A policy set through node 1 is enforced by all within a second.
printf 'version=1.0;\nauthorizationrules { => deny(); };\nissuancerules { };\n' >"$tmp/deny.policy"
"$ctl" --url "https://127.0.0.1:$(port_of 1)" --cacert "$tmp/n1/tls/dev-cert.pem" --token "$admin" \
  policy set SgxEnclave "$tmp/deny.policy" >/dev/null || fail "policy set through node 1 failed"
t0=$(date +%s%N) # from the acknowledgement
# Each node is polled by its own loop, so the slowest one is measured, not the sum.
for n in 1 2 3; do
  (
    until [ "$(attest "https://127.0.0.1:$(port_of "$n")")" = 400 ]; do
      [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || exit 1
    done
    echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$tmp/reach$n"
  ) &
  pids[$((20 + n))]=$!
done
for n in 1 2 3; do wait "${pids[$((20 + n))]}" || fail "node $n still permits 5 s after the policy change"; done
reach_ms=$(sort -n "$tmp"/reach? | tail -1)
load=$(cut -d' ' -f1 /proc/loadavg)
echo "policy change reached all 3 nodes ${reach_ms} ms after it was acknowledged (load average $load)"
# The goal is one second. Each poll is a whole curl process and an attestation,
# so on a machine loaded beyond its cores the measurement itself takes longer:
# there the bound is relaxed, and the figure is printed either way.
limit=1000
if awk -v l="$load" -v c="$(nproc)" 'BEGIN { exit !(l > c) }'; then limit=3000; fi
[ "$reach_ms" -le "$limit" ] || fail "the policy change took ${reach_ms} ms to reach every node (bound ${limit} ms)"
"$ctl" --url "https://127.0.0.1:$(port_of 1)" --cacert "$tmp/n1/tls/dev-cert.pem" --token "$admin" \
  policy reset SgxEnclave >/dev/null || fail "policy reset failed"
sleep 1.5

# 2. SIGKILL of one node under load loses no request.
: >"$tmp/mark"
kill -9 "${pids[2]}"
sleep 3
for c in 1 2 3; do tail -n +1 "$tmp/load$c.txt"; done >"$tmp/all.txt"
total=$(wc -l <"$tmp/all.txt")
bad=$(grep -cv '^\(200\|400\)$' "$tmp/all.txt" || true)
echo "load so far: $total requests, $bad neither 200 nor 400"
[ "$bad" -eq 0 ] || { sort "$tmp/all.txt" | uniq -c; fail "requests were lost when a node was killed"; }

# 3. PostgreSQL stopped: attestation answers from cache, writes fail cleanly, /readyz says so.
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TEST_PRIMARY_DIR/data" -m fast -w stop >/dev/null
sleep 1
before=$(cat "$tmp"/load*.txt | wc -l)
sleep 2
after_lines=$(cat "$tmp"/load*.txt | tail -n +$((before + 1)))
served=$(echo "$after_lines" | grep -c '^200$' || true)
echo "with the database down: $served attestations answered 200 in 2 s"
[ "$served" -gt 0 ] || fail "attestation stopped when the database went down"
code=$("$ctl" --url "https://127.0.0.1:$(port_of 1)" --cacert "$tmp/n1/tls/dev-cert.pem" --token "$admin" \
  policy set SgxEnclave "$tmp/deny.policy" 2>&1 || true)
echo "$code" | grep -q "503" || fail "a write with the database down did not answer 503: $code"
ready=$(curl -s -o /dev/null -w '%{http_code}' -k "https://127.0.0.1:$(port_of 1)/readyz")
[ "$ready" = 503 ] || fail "/readyz answered $ready with the database down"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TEST_PRIMARY_DIR/data" -l "$PG_TEST_PRIMARY_DIR/server.log" -w start >/dev/null
for _ in $(seq 1 50); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -k "https://127.0.0.1:$(port_of 1)/readyz")" = 200 ] && break
  sleep 0.2
done
"$ctl" --url "https://127.0.0.1:$(port_of 1)" --cacert "$tmp/n1/tls/dev-cert.pem" --token "$admin" \
  policy reset SgxEnclave >/dev/null || fail "writes did not recover when the database returned"

touch "$tmp/stop"
wait "${pids[11]}" "${pids[12]}" "${pids[13]}" 2>/dev/null || true
total=$(cat "$tmp"/load*.txt | wc -l)
bad=$(cat "$tmp"/load*.txt | grep -cv '^\(200\|400\)$' || true)
echo "whole run: $total attest requests through haproxy, $bad lost or 5xx"
[ "$bad" -eq 0 ] || { cat "$tmp"/load*.txt | sort | uniq -c; fail "requests failed during the run"; }
echo "PASS"

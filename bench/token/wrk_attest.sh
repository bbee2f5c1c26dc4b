#!/usr/bin/env bash
# HTTPS attestation throughput of attestd (issue 9 benchmark), beside the
# in-process floor measured in the same run (bench_attest):
#   1. bench_attest: verification floor + one RS256 signature, and the
#      pipeline, per core, in process;
#   2. attestd (Release) with 1 and then 2 workers, clock fixed at the real
#      quote's collateral date, warm caches; wrk with keep-alive POSTs the
#      recorded SgxEnclave request of the @azure/attestation test suite;
#      max throughput with enough connections to keep every worker busy;
#   3. p50/p99 latency at about 50 % and 90 % of that throughput (wrk is a
#      closed-loop generator: each connection pauses between requests so
#      the offered rate is the target; the achieved rate is printed).
# Reports, never asserts. The machine has 2 cores shared by the server,
# the load generator and anything else running, which caps the wall-clock
# figures (wrk needs CPU too; other jobs preempt both). So the server's own
# CPU time per attestation (utime+stime of the attestd process over the
# max-throughput run, /proc/<pid>/stat) is reported too: it is what one
# attestation costs the service whatever else runs, and 1/that is the
# capacity of one worker, comparable with the in-process floor. The maximum
# throughput is measured in rounds, each between two short floor
# measurements (their mean is the round's floor), and the figures are the
# medians over the rounds: the machine's speed drifts by the minute.
#   bench/token/wrk_attest.sh [BUILD_DIR] [SECONDS per round]   (WRK_ROUNDS, default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
secs=${2:-6}
rounds=${WRK_ROUNDS:-3}
vectors=${ATTEST_VECTORS:-$(cd .. && pwd)/shared/vectors}
attestd=$build/src/server/attestd
bench=$build/bench/bench_attest
for f in "$attestd" "$bench"; do
  [ -x "$f" ] || { echo "missing $f (build the Release tree first)"; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 1; }

work=$(mktemp -d /tmp/attest-wrk-XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$vectors" "$work" <<'EOF'
import json, sys
vec, work = sys.argv[1], sys.argv[2]
rec = json.load(open(vec + "/maa-tokens/js-2022-01-28-sharedwus/exchanges/03-attest-SgxEnclave-binary-runtime/request.json"))
body = json.dumps(rec["body"], separators=(",", ":"))
open(work + "/body.json", "w").write(body)
open(work + "/post.lua", "w").write(
    'wrk.method = "POST"\n'
    'wrk.headers["Content-Type"] = "application/json"\n'
    'wrk.body = ' + json.dumps(body) + '\n'
    'local pause = tonumber(os.getenv("PAUSE_MS") or "0")\n'
    'function delay() return pause end\n'
    'function response(status, headers, body)\n'
    '  if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end\n'
    'end\n')
EOF

echo "== in-process floor and pipeline (bench_attest)"
ATTEST_VECTORS=$vectors "$bench" 21 20 | sed 's/^/   /'

start_server() { # workers
  rm -rf "$work/data"
  "$attestd" --data "$work/data" --listen 127.0.0.1 --port 0 --port-file "$work/port" --dev \
    --workers "$1" --log-level error --test-fixed-time 1651017600 \
    --collateral-dir "$vectors/oe/openenclave-plugin-evidence-00906ed50000-2022-04-26" \
    >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 300); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(cat "$work/port")
  url="https://127.0.0.1:$port/attest/SgxEnclave?api-version=2020-10-01"
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; rm -f "$work/port"; }

# wrk run: connections, pause ms -> prints "rate p50 p99" (rate in req/s, latencies in ms)
run_wrk() {
  cpu0=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
  PAUSE_MS=$2 wrk -t1 -c"$1" -d"${secs}s" --latency -s "$work/post.lua" "$url" >"$work/wrk.out" 2>"$work/wrk.err" || true
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /requests in/ {n=$1}
    /Requests\/sec/ {rate=$2}
    /^ +50%/ {p50=ms($2)}
    /^ +99%/ {p99=ms($2)}
    END {printf "%.0f %.2f %.2f %d\n", rate, p50, p99, n}' "$work/wrk.out"
  cpu1=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
  echo "$cpu0 $cpu1" >"$work/cpu"
  if grep -q status "$work/wrk.err"; then echo "   (non-200 answers: $(sort "$work/wrk.err" | uniq -c | tr '\n' ' '))" >&2; fi
}

for workers in 1 2; do
  start_server "$workers"
  curl -s --cacert "$work/data/tls/dev-cert.pem" -H 'Content-Type: application/json' \
    --data-binary @"$work/body.json" "$url" -o /dev/null -w "   warm-up: HTTP %{http_code}\n"
  conns=$((workers * 4))
  # Rounds of (floors, maximum-throughput run, floors): the floors of a round are the mean of the
  # measurements just before and just after its run, so each round's ratio compares the server
  # with the floor under the same neighbours on this shared machine; the figures are the medians
  # over the rounds (the ratio: the median of the rounds' ratios).
  : >"$work/rounds"
  for _ in $(seq "$rounds"); do
    ATTEST_VECTORS=$vectors "$bench" 7 10 >"$work/floors1"
    run_wrk "$conns" 0 >"$work/max"
    read -r r_max r_p50 r_p99 r_n <"$work/max"
    read -r c0 c1 <"$work/cpu"
    ATTEST_VECTORS=$vectors "$bench" 7 10 >"$work/floors2"
    awk -v max="$r_max" -v p50="$r_p50" -v p99="$r_p99" -v n="$r_n" -v c0="$c0" -v c1="$c1" \
        -v hz="$(getconf CLK_TCK)" '
      FNR == 1 {f++}
      /^ *attestation floor \(/ {att[f] = $6}
      /^ *crypto floor \(/ {cry[f] = $8}
      END {
        cpu = (c1 - c0) / hz / n * 1e6
        a = (att[1] + att[2]) / 2; k = (cry[1] + cry[2]) / 2
        printf "%s %s %s %.1f %.1f %.1f %.4f\n", max, p50, p99, cpu, a, k, k / cpu
      }' "$work/floors1" "$work/floors2" >>"$work/rounds"
  done
  # column k's median over the rounds
  med() { sort -g -k"$1","$1" "$work/rounds" | awk -v k="$1" '{v[NR] = $k} END {print v[int((NR + 1) / 2)]}'; }
  max=$(med 1); p50=$(med 2); p99=$(med 3)
  cpu_us=$(med 4 | awk '{printf "%.0f", $1}'); floor_us=$(med 5); crypto_us=$(med 6)
  kratio=$(med 7)
  floor_rate=$(awk -v us="$floor_us" -v w="$workers" 'BEGIN {printf "%.0f", w * 1e6 / us}')
  pct=$(awk -v a="$max" -v b="$floor_rate" 'BEGIN {printf "%.0f", 100 * a / b}')
  echo "== HTTPS, $workers worker(s), keep-alive, $conns connections, $rounds rounds of ${secs}s"
  echo "   max throughput: $max attestations/s (p50 $p50 ms, p99 $p99 ms)"
  echo "   in-process attestation floor x $workers core(s): $floor_rate/s  -> HTTPS reaches $pct% of it (wall clock)"
  cap=$(awk -v us="$cpu_us" -v w="$workers" 'BEGIN {printf "%.0f", w * 1e6 / us}')
  cpct=$(awk -v a="$cap" -v b="$floor_rate" 'BEGIN {printf "%.0f", 100 * a / b}')
  echo "   server CPU per attestation: $cpu_us us -> capacity $cap/s on $workers core(s) = $cpct% of the floor"
  # The issue's wording: (two-signature floor + token signature), i.e. 2 ECDSA + 1 RSA per core.
  kpct=$(awk -v r="$kratio" 'BEGIN {printf "%.0f", 100 * r}')
  echo "   crypto floor (2 ECDSA + 1 RSA, $crypto_us us) / server CPU per attestation = $kpct% per core" \
    "(median of $rounds rounds: $(awk '{printf "%s%.0f%%", (NR > 1 ? " " : ""), 100 * $7}' "$work/rounds"))"
  for frac in 50 90; do
    target=$(awk -v m="$max" -v f="$frac" 'BEGIN {printf "%.0f", m * f / 100}')
    # each connection: one request per (pause + service time); pause = conns/target - service
    pause=$(awk -v c="$conns" -v t="$target" -v l="$p50" 'BEGIN {p = 1000 * c / t - l; if (p < 0) p = 0; printf "%.0f", p}')
    run_wrk "$conns" "$pause" >"$work/paced"
    read -r rate q50 q99 _ <"$work/paced"
    echo "   at ~$frac% ($target/s offered, ${pause} ms pauses): achieved $rate/s, p50 $q50 ms, p99 $q99 ms"
  done
  stop_server
done

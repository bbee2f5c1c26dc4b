#!/usr/bin/env bash
# Runs every benchmark in a Release build; each prints its figure beside the
# cryptographic floor measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
find "$build/bench" -type f -name 'bench_*' -perm -u+x | sort | while IFS= read -r b; do
  echo "== $(basename "$b")"
  ATTEST_VECTORS=${ATTEST_VECTORS:-$(cd .. && pwd)/shared/vectors} "$b"
done
# One report (issue 13): bench/report.json and a table. It runs each benchmark
# again with its output captured (shown as it runs) and the HTTPS attestation
# benchmark (bench/token/wrk_attest.sh); ATTEST_BENCH_REPORT=0 skips it.
if [ "${ATTEST_BENCH_REPORT:-1}" != 0 ]; then
  python3 scripts/bench_report.py --build "$build"
fi

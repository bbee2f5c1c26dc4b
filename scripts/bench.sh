#!/usr/bin/env bash
# Runs every benchmark of a Release build (each prints its figure beside the
# cryptographic floor measured in the same run) and writes one report:
# bench/report.json and a table on the terminal (scripts/bench_report.py).
#   scripts/bench.sh [BUILD_DIR [bench_report.py options, e.g. --out FILE --no-https]]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
if [ $# -gt 0 ]; then shift; fi
export ATTEST_VECTORS=${ATTEST_VECTORS:-$(cd .. && pwd)/shared/vectors}
exec python3 scripts/bench_report.py --build "$build" "$@"

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

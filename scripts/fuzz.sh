#!/usr/bin/env bash
# Runs every libFuzzer target in a fuzz build for N seconds each, over its seed
# corpus (fuzz/<module>/corpus/<target>) plus, when present, the real vectors.
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
secs=${2:-10}
found=0
while IFS= read -r bin; do
  name=$(basename "$bin")
  found=$((found + 1))
  work=$(mktemp -d)
  corpus=()
  for d in fuzz/*/corpus/"$name"; do [ -d "$d" ] && corpus+=("$d"); done
  dict=()
  for f in fuzz/*/"$name".dict; do [ -f "$f" ] && dict=(-dict="$f"); done
  echo "fuzz: $name for ${secs}s (seeds: ${corpus[*]:-none})"
  ATTEST_VECTORS=${ATTEST_VECTORS:-$(cd .. && pwd)/shared/vectors} \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    "${dict[@]}" "$work" "${corpus[@]}" >"$work.log" 2>&1 || { tail -50 "$work.log"; exit 1; }
  rm -rf "$work" "$work.log"
done < <(find "$build/fuzz" -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
echo "fuzz: $found targets ran clean"

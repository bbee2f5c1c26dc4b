#!/usr/bin/env bash
# The whole test command (make check, .ci/run):
#   1. Debug build: every test but the mutation sweeps (they run in 2 and 3).
#   2. Release build: the mutation sweeps (label "sweep"), exhaustive.
#   3. ASan+UBSan build: every test not labelled no-sanitize, sweeps sampled (every 16th).
#   4. clang + libFuzzer: each fuzz target for ATTEST_FUZZ_SECONDS (default 10) over its seeds.
# Budget: about 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
BUILD=${BUILD:-build}
start=$(date +%s)
# Test suites run `attestctl dev init` in many fresh folders: generate the development
# platform's RSA-4096 AMD keys once for the whole run (cmd_dev.c; tests only).
export ATTESTCTL_DEV_KEY_CACHE=${ATTESTCTL_DEV_KEY_CACHE:-$PWD/$BUILD/devplat-key-cache}

step() { printf '\n=== %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

configure() { # dir, cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
}

step "Debug build"
configure "$BUILD/debug" -DCMAKE_BUILD_TYPE=Debug
cmake --build "$BUILD/debug" -j"$JOBS"

step "Debug tests (unit, integration)"
(cd "$BUILD/debug" && ctest -j"$JOBS" --output-on-failure --timeout 900 -LE sweep)

step "Release build"
configure "$BUILD/release" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD/release" -j"$JOBS"

step "Release: exhaustive mutation sweeps"
(cd "$BUILD/release" && ATTEST_SWEEP_STRIDE=1 ctest -j"$JOBS" --output-on-failure --timeout 1200 -L sweep)

step "ASan+UBSan build"
configure "$BUILD/asan" -DCMAKE_BUILD_TYPE=Debug -DATTEST_SANITIZE=ON -DATTEST_BENCH=OFF
cmake --build "$BUILD/asan" -j"$JOBS"

step "ASan+UBSan tests (sweeps sampled)"
(cd "$BUILD/asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ATTEST_SANITIZER_RUN=1 ATTEST_SWEEP_STRIDE=16 ctest -j"$JOBS" --output-on-failure --timeout 900 -LE no-sanitize)

if command -v clang >/dev/null 2>&1; then
  step "Fuzz smoke (clang + libFuzzer)"
  CC=clang configure "$BUILD/fuzz" -DCMAKE_BUILD_TYPE=Debug -DATTEST_FUZZ=ON -DATTEST_BENCH=OFF
  cmake --build "$BUILD/fuzz" -j"$JOBS"
  scripts/fuzz.sh "$BUILD/fuzz" "${ATTEST_FUZZ_SECONDS:-10}"
fi

step "all checks passed"

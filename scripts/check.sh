#!/usr/bin/env bash
# The whole test command (make check, .ci/run): Debug build with every test,
# the ASan+UBSan build with the unit tests, and a short fuzz smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
BUILD=${BUILD:-build}
start=$(date +%s)

step() { printf '\n=== %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

step "Debug build"
cmake -S . -B "$BUILD/debug" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD/debug" -j"$JOBS"

step "Debug tests (unit and integration)"
(cd "$BUILD/debug" && ctest -j"$JOBS" --output-on-failure --timeout 900)

step "ASan+UBSan build"
cmake -S . -B "$BUILD/asan" -DCMAKE_BUILD_TYPE=Debug -DATTEST_SANITIZE=ON -DATTEST_BENCH=OFF >/dev/null
cmake --build "$BUILD/asan" -j"$JOBS"

step "ASan+UBSan tests"
(cd "$BUILD/asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ATTEST_SANITIZER_RUN=1 ATTEST_SWEEP_STRIDE=16 ctest -j"$JOBS" --output-on-failure --timeout 900 -LE no-sanitize)

if command -v clang >/dev/null 2>&1; then
  step "Fuzz smoke (clang + libFuzzer)"
  CC=clang cmake -S . -B "$BUILD/fuzz" -DCMAKE_BUILD_TYPE=Debug -DATTEST_FUZZ=ON -DATTEST_BENCH=OFF >/dev/null
  cmake --build "$BUILD/fuzz" -j"$JOBS"
  scripts/fuzz.sh "$BUILD/fuzz" "${ATTEST_FUZZ_SECONDS:-10}"
fi

step "all checks passed"

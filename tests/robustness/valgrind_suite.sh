#!/usr/bin/env bash
# make valgrind: the integration suite (ctest -L integration, robustness included) with every attestd
# it starts running under valgrind memcheck (ATTESTD_WRAPPER, honoured by tests/integration/harness.h,
# tests/common/proc.h and tests/robustness/rlib.py). Passes when every test passes and no valgrind log
# reports an error or a definite leak. Usage: valgrind_suite.sh BUILD_DIR [ctest args...]
# Takes long (memcheck is ~20-50x slower): CI runs robust_valgrind only (scripts/check.sh).
set -euo pipefail
build=${1:?usage: valgrind_suite.sh BUILD_DIR [ctest args]}; shift
logs=$(mktemp -d /tmp/attestd-valgrind-XXXXXX)
export ATTESTD_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$logs/attestd.%p.log"
rc=0
(cd "$build" && ctest -L integration -LE "valgrind|no-valgrind" --timeout 3600 --output-on-failure "$@") || rc=$?
bad=0
for f in "$logs"/*.log; do
  [ -s "$f" ] || continue
  echo "=== $f"; cat "$f"; bad=$((bad + 1))
done
echo "valgrind: $(ls "$logs" | wc -l) attestd runs, $bad with errors or definite leaks (logs in $logs)"
[ "$rc" -eq 0 ] && [ "$bad" -eq 0 ]

#!/usr/bin/env bash
# make valgrind: the integration suite (ctest -L integration, robustness included) with every attestd
# it starts running under valgrind memcheck (ATTESTD_WRAPPER, honoured by tests/integration/harness.h,
# tests/common/proc.h and tests/robustness/rlib.py). Passes when no valgrind log holds a finding
# (tests/robustness/vg_filter.py: any error, definite leak or warning, but valgrind's note about the
# mlock2 syscall of OpenSSL's secure heap). Tests that fail only because memcheck makes attestd
# 20-50x slower (their timeouts) are listed, not counted. Usage: valgrind_suite.sh BUILD_DIR [ctest args...]
# Tests labelled no-sanitize measure memory or throughput (or are robust_valgrind itself): left out.
# Takes long: CI runs robust_valgrind only (scripts/check.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: valgrind_suite.sh BUILD_DIR [ctest args]}; shift
logs=$(mktemp -d /tmp/attestd-valgrind-XXXXXX)
export ATTESTD_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$logs/attestd.%p.log"
rc=0
(cd "$build" && ctest -L integration -LE no-sanitize --output-on-failure "$@") || rc=$?
[ "$rc" -eq 0 ] || echo "valgrind_suite: some tests failed under valgrind (ctest exit $rc; see above: timeouts are expected)"
python3 "$here/vg_filter.py" "$logs"/*.log

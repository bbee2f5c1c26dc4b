#!/usr/bin/env bash
# Static analysis: cppcheck over every source, clang-tidy over the compile
# database of a configured build (default build/debug). Exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/debug}
mapfile -t sources < <(git ls-files 'src/*.c')
echo "lint: cppcheck (${#sources[@]} files)"
cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
  --inline-suppr --suppress=missingIncludeSystem -I include -I src "${sources[@]}"
echo "lint: clang-tidy"
clang-tidy -p "$build" --quiet --warnings-as-errors='*' \
  --checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-macro-parentheses,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,-bugprone-implicit-widening-of-multiplication-result,cert-err34-c,clang-analyzer-*,-clang-analyzer-security.insecureAPI.*,-clang-analyzer-valist.*,misc-redundant-expression' \
  "${sources[@]}" 2>/dev/null
echo "lint: clean"

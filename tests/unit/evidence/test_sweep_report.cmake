# The sweep suite's table: runs after its programs (fixture sweep_suite; `ctest -R test_sweep_report` runs them first).
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 60 FIXTURES_REQUIRED sweep_suite)

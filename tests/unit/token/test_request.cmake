# Holds a truncation sweep over a real request body (honours ATTEST_SWEEP_STRIDE).
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 900)

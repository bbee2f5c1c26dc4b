# The exhaustive sweep takes a few minutes in Debug (ATTEST_SWEEP_STRIDE=16 under sanitizers).
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 1200 LABELS "unit;slow")

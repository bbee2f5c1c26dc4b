# Holds the mutation sweep over a signed policy JWS (honours ATTEST_SWEEP_STRIDE).
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 900)

# Holds mutation sweeps (honouring ATTEST_SWEEP_STRIDE): labelled for scripts/check.sh.
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 900)

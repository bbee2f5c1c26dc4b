# Holds mutation sweeps over sealed key blobs (honouring ATTEST_SWEEP_STRIDE).
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 900)

# The mutation sweep verifies ~280k altered quotes when exhaustive: labelled
# "sweep" so scripts/check.sh runs it exhaustively only in Release and with
# ATTEST_SWEEP_STRIDE elsewhere.
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 900)

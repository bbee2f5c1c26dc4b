# Runs node with the jose npm package (tests/interop/node_modules): label it so
# it can be selected or excluded as an interop check.
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;interop" TIMEOUT 120)

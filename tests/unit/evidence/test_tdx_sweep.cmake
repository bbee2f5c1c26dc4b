# The mutation sweep verifies tens of thousands of altered quotes: give it time.
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 1500 LABELS "unit;slow")

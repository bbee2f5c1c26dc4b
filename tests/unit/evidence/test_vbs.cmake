# The cut and bit-flip sweep of a VBS report is in the sweep suite (test_sweep_tpm).
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit" TIMEOUT 300)

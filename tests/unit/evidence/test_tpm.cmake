# The mutation sweeps of the real quote and signature are in the sweep suite (test_sweep_tpm).
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit" TIMEOUT 300)

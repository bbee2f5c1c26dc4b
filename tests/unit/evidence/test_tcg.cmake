# The bit-flip sweep of the GCP log is in the sweep suite (test_sweep_tpm); the cut test here honours
# ATTEST_SWEEP_STRIDE and takes a second.
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit" TIMEOUT 300)

# The mutation sweeps of the real quote and signature are in the sweep suite (test_sweep_tpm).
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit" TIMEOUT 300)
# The readers' differential against libtss2-mu honours ATTEST_SWEEP_STRIDE (tests/common/sweep.h).
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/sweep.c)

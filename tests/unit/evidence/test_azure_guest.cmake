target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
# The bit-flip and cut sweep goes through the suite's engine (tests/common/sweep.h).
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/sweep.c)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 300 LABELS "unit;sweep" FIXTURES_SETUP sweep_suite)

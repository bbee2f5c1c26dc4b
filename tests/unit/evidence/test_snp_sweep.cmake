include(${CMAKE_CURRENT_LIST_DIR}/test_snp_sources.cmake)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 900 LABELS "unit;sweep")

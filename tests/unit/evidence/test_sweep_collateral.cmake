# Sweep suite (tests/common/sweep.h): exhaustive in Release, every 16th mutation under the sanitizers
# (scripts/check.sh); its rows go to ${CMAKE_BINARY_DIR}/sweep-report.json.
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/sweep.c
  ${CMAKE_SOURCE_DIR}/tests/common/devplat_fixture.c)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;sweep" TIMEOUT 2400 FIXTURES_SETUP sweep_suite)

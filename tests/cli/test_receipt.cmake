add_dependencies(${ATTEST_PROGRAM} attestctl)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;cli;integration" TIMEOUT 300)

add_dependencies(${ATTEST_PROGRAM} attestctl)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;cli;integration" TIMEOUT 300)
# attestctl of this build, run with fixed leading arguments (tests/common/ctl_run.h).
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/ctl_run.c)

add_dependencies(${ATTEST_PROGRAM} attestctl attestd)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_SOURCE_DIR}/tests/common)
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;cli" TIMEOUT 300)
# attestctl of this build, run with fixed leading arguments (tests/common/ctl_run.h).
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/ctl_run.c)

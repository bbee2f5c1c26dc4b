# Starts a real attestd (offline, at the vectors' time) and posts collateral bundles to it.
add_dependencies(${ATTEST_PROGRAM} attestd)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 300)

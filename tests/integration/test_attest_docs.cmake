# Starts real attestd processes and checks every example of docs/api.md against it.
add_dependencies(${ATTEST_PROGRAM} attestd)
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 600 RUN_SERIAL TRUE)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES SKIP_RETURN_CODE 77) # TEST_EXIT_SKIPPED: the vectors are absent

# Real software TPM (swtpm + tpm2-tools, driven by tests/integration/tpm/swtpm.sh): skips when absent.
# The second test starts a real attestd (tests/integration/harness.h) and runs node + jose (tests/interop).
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common ${CMAKE_SOURCE_DIR}/tests/integration)
add_dependencies(${ATTEST_PROGRAM} attestd attestctl)
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;tpm" TIMEOUT 180 RUN_SERIAL TRUE)

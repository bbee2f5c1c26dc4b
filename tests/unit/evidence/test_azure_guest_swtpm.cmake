# Real software TPM (swtpm + tpm2-tools, driven by tests/integration/tpm/swtpm.sh): skips when absent.
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;tpm" TIMEOUT 180)

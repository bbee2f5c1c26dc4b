include(${CMAKE_CURRENT_LIST_DIR}/test_tpm_sources.cmake)
# Real software TPM (swtpm + tpm2-tools): skips with a message when they are absent.
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;tpm" TIMEOUT 180)

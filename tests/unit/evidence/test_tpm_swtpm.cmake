# Real software TPM (swtpm + tpm2-tools): skips with a message when they are absent.
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;tpm" TIMEOUT 180)

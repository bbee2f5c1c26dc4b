add_dependencies(${ATTEST_PROGRAM} attestctl)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;cli;integration")
# `attestctl tpm pack` on a software TPM's tpm2-tools output (skipped, 77, without swtpm).
add_test(NAME attestctl_tpm_pack_swtpm
         COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/tpm_pack_swtpm.sh $<TARGET_FILE:attestctl> ${CMAKE_SOURCE_DIR})
set_tests_properties(attestctl_tpm_pack_swtpm PROPERTIES LABELS "integration;cli;tpm" TIMEOUT 120
                     SKIP_RETURN_CODE 77 PASS_REGULAR_EXPRESSION "PASS: ")

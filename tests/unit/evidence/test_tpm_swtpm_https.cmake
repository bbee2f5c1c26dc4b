include(${CMAKE_CURRENT_LIST_DIR}/test_tpm_sources.cmake)
# attestd over HTTPS with a real software TPM: skips with a message when swtpm,
# tpm2-tools or the attestd binary are absent.
if(TARGET attestd)
  add_dependencies(${ATTEST_PROGRAM} attestd)
endif()
set_property(TARGET ${ATTEST_PROGRAM} APPEND PROPERTY LINK_LIBRARIES PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;tpm" TIMEOUT 300 RUN_SERIAL TRUE)

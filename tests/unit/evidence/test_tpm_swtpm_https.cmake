# attestd over HTTPS with a real software TPM: skips with a message when swtpm,
# tpm2-tools or the attestd binary are absent.
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
if(TARGET attestd)
  add_dependencies(${ATTEST_PROGRAM} attestd)
endif()
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration;tpm" TIMEOUT 300 RUN_SERIAL TRUE)

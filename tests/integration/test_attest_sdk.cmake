# Starts real attestd processes and runs the official @azure/attestation client (node).
add_dependencies(${ATTEST_PROGRAM} attestd)
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 900 RUN_SERIAL TRUE)

# Starts a real attestd and node (the official Azure client, jose).
add_dependencies(${ATTEST_PROGRAM} attestd)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  PkgConfig::CURL PkgConfig::JANSSON PkgConfig::OPENSSL PkgConfig::CMOCKA)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 300 RUN_SERIAL TRUE)

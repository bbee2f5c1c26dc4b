# Starts real attestd processes: needs the binary of this build, libcurl and OpenSSL.
add_dependencies(${ATTEST_PROGRAM} attestd)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_crypto attest_base PkgConfig::CURL PkgConfig::JANSSON PkgConfig::OPENSSL PkgConfig::CMOCKA)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 300 RUN_SERIAL TRUE)

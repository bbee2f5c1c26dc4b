# The test's replay HTTPS server is libmicrohttpd.
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::MHD)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 120)

# The online collateral sources use libcurl, referenced weakly (see pcs_http.c): --no-as-needed keeps
# libcurl in the program although only weak references name it. The test's HTTPS server is libmicrohttpd.
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL PkgConfig::MHD)
target_link_options(${ATTEST_PROGRAM} PRIVATE -Wl,--no-as-needed)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 120)

# The replay server is libmicrohttpd; the vectors folder is compiled in (ATTEST_VECTORS overrides).
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::MHD)
target_compile_definitions(${ATTEST_PROGRAM} PRIVATE ATTEST_VECTORS_DIR="${ATTEST_VECTORS}")

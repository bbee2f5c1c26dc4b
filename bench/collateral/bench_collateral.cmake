# libcurl is referenced weakly by the online sources (src/collateral/pcs_http.c): keep it linked.
# The replay server is libmicrohttpd; the vectors folder is compiled in (ATTEST_VECTORS overrides).
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL PkgConfig::MHD)
target_link_options(${ATTEST_PROGRAM} PRIVATE -Wl,--no-as-needed)
target_compile_definitions(${ATTEST_PROGRAM} PRIVATE ATTEST_VECTORS_DIR="${ATTEST_VECTORS}")

# Starts real attestd nodes (one as the PCCS of another), a replay PCS (libmicrohttpd) and node (dcap-qvl).
add_dependencies(${ATTEST_PROGRAM} attestd)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_SOURCE_DIR}/tests/unit/collateral)
target_link_libraries(${ATTEST_PROGRAM} PRIVATE PkgConfig::CURL PkgConfig::MHD)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 300)

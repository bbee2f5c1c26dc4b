# Two attestd nodes on a throw-away PostgreSQL (tests/ha/with_pg.sh); the plain
# entry skips (no store URI), the _postgres entry runs it for real.
add_dependencies(${ATTEST_PROGRAM} attestd)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_base PkgConfig::CURL PkgConfig::JANSSON PkgConfig::OPENSSL PkgConfig::CMOCKA)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "integration" TIMEOUT 120)
add_test(NAME attestd_cluster_postgres
  COMMAND ${CMAKE_SOURCE_DIR}/tests/ha/with_pg.sh $<TARGET_FILE:${ATTEST_PROGRAM}>)
set_tests_properties(attestd_cluster_postgres PROPERTIES
  ENVIRONMENT "ATTEST_SOURCE_DIR=${CMAKE_SOURCE_DIR};ATTEST_BINARY_DIR=${CMAKE_BINARY_DIR}"
  LABELS "integration" TIMEOUT 300 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)

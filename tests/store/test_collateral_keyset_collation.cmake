# Links only the store and base (builds while other modules are mid-edit),
# with libpq and SQLite for the checks under the store. The plain entry runs
# the SQLite case and skips the PostgreSQL ones; the _postgres entry runs
# them all against a throw-away primary (tests/ha/with_pg.sh), whose
# server.log holds the plans the test reads.
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_store attest_base PkgConfig::PQ PkgConfig::SQLITE PkgConfig::CMOCKA)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 60)
add_test(NAME collateral_keyset_collation_postgres
  COMMAND ${CMAKE_SOURCE_DIR}/tests/ha/with_pg.sh $<TARGET_FILE:${ATTEST_PROGRAM}>)
set_tests_properties(collateral_keyset_collation_postgres PROPERTIES
  LABELS "integration;ha" TIMEOUT 120 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)

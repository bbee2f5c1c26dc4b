include(${CMAKE_CURRENT_LIST_DIR}/test_snp_sources.cmake)
# The policy engine on top of the SNP claims.
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_policy attest_collateral attest_crypto attest_claims attest_base PkgConfig::OPENSSL PkgConfig::JANSSON
  PkgConfig::CMOCKA)

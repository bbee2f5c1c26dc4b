# The SNP / Azure CVM fuzz targets build the verifier's own sources and link
# only collateral, crypto, claims and base (as tests/unit/evidence/test_snp_sources.cmake),
# so they build while other evidence formats are mid-edit.
set(_snp_src ${CMAKE_SOURCE_DIR}/src)
target_sources(${ATTEST_PROGRAM} PRIVATE
  ${_snp_src}/evidence/snp.c ${_snp_src}/evidence/snp_report.c ${_snp_src}/evidence/snp_cache.c
  ${_snp_src}/evidence/snp_claims.c ${_snp_src}/evidence/amd_certs.c ${_snp_src}/evidence/amd_roots.c
  ${_snp_src}/evidence/azure_cvm.c)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_collateral attest_crypto attest_claims attest_base PkgConfig::OPENSSL PkgConfig::JANSSON)

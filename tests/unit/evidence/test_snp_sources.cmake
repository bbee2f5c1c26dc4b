# Shared by the SNP / Azure CVM test programs: build the SNP verifier's own
# sources into the program and link only the modules they use (crypto,
# claims, collateral, base), so these tests build while other evidence formats are
# mid-edit. The sources are the same files libattest_evidence compiles.
set(_snp_src ${CMAKE_SOURCE_DIR}/src)
set(SNP_TEST_SOURCES
  ${_snp_src}/evidence/snp.c ${_snp_src}/evidence/snp_report.c ${_snp_src}/evidence/snp_cache.c
  ${_snp_src}/evidence/snp_claims.c ${_snp_src}/evidence/amd_certs.c ${_snp_src}/evidence/amd_roots.c)
foreach(_f IN ITEMS ${_snp_src}/evidence/azure_cvm.c ${_snp_src}/devplat/snp_plat.c)
  if(EXISTS ${_f})
    list(APPEND SNP_TEST_SOURCES ${_f})
  endif()
endforeach()
target_sources(${ATTEST_PROGRAM} PRIVATE ${SNP_TEST_SOURCES})
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_collateral attest_crypto attest_claims attest_base PkgConfig::OPENSSL PkgConfig::JANSSON PkgConfig::CMOCKA)

# The TPM/TCG/VBS tests build the verifier's own sources and link only
# crypto, claims and base (as the SNP tests do), so they build and run while
# other evidence formats or modules are mid-edit.
set(_tpm_src ${CMAKE_SOURCE_DIR}/src)
target_sources(${ATTEST_PROGRAM} PRIVATE
  ${_tpm_src}/evidence/tpm.c ${_tpm_src}/evidence/tpm_protocol.c ${_tpm_src}/evidence/tpm_protocol_request.c
  ${_tpm_src}/evidence/tcg_log.c ${_tpm_src}/evidence/tcg_claims.c ${_tpm_src}/evidence/sipa.c
  ${_tpm_src}/evidence/vbs.c ${_tpm_src}/devplat/tpm_ca.c ${_tpm_src}/devplat/tpm_dev.c)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_SOURCE_DIR}/tests/common ${CMAKE_SOURCE_DIR}/tests/unit/evidence)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_crypto attest_claims attest_base PkgConfig::OPENSSL PkgConfig::JANSSON PkgConfig::TSS2MU)
if(TARGET PkgConfig::CMOCKA)
  get_target_property(_tpm_type ${ATTEST_PROGRAM} TYPE)
  string(REGEX MATCH "^test_" _tpm_is_test "${ATTEST_PROGRAM}")
  if(_tpm_is_test)
    set_property(TARGET ${ATTEST_PROGRAM} APPEND PROPERTY LINK_LIBRARIES PkgConfig::CMOCKA)
  endif()
endif()

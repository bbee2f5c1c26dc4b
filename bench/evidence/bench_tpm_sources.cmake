# The TPM benchmarks build the TPM/TCG sources and link only crypto, claims
# and base, so they build while other modules are mid-edit.
set(_tpm_src ${CMAKE_SOURCE_DIR}/src)
target_sources(${ATTEST_PROGRAM} PRIVATE
  ${_tpm_src}/evidence/tpm.c ${_tpm_src}/evidence/tcg_log.c ${_tpm_src}/evidence/tcg_claims.c
  ${_tpm_src}/evidence/sipa.c ${_tpm_src}/devplat/tpm_dev.c ${_tpm_src}/evidence/vbs.c
  ${_tpm_src}/evidence/tpm_protocol.c ${_tpm_src}/evidence/tpm_protocol_request.c ${_tpm_src}/devplat/tpm_ca.c)
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_SOURCE_DIR}/tests/common)
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES
  attest_crypto attest_claims attest_base PkgConfig::OPENSSL PkgConfig::JANSSON PkgConfig::TSS2MU)

# Builds the SNP verifier's own sources in, linking only collateral, crypto,
# claims and base (as the SNP tests and fuzz targets do).
include(${CMAKE_SOURCE_DIR}/fuzz/evidence/fuzz_snp_sources.cmake)

# Where the bench finds the dcap-qvl runner script, node_modules and the real vectors.
target_compile_definitions(${ATTEST_PROGRAM} PRIVATE ATTEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  ATTEST_VECTORS_DIR="${ATTEST_VECTORS}")

include(${CMAKE_CURRENT_LIST_DIR}/fuzz_tpm_sources.cmake)

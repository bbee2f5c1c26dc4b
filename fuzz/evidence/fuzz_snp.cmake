include(${CMAKE_CURRENT_LIST_DIR}/fuzz_snp_sources.cmake)

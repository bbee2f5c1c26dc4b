include(${CMAKE_CURRENT_LIST_DIR}/bench_tpm_sources.cmake)

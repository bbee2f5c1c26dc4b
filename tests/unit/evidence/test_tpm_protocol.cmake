include(${CMAKE_CURRENT_LIST_DIR}/test_tpm_sources.cmake)

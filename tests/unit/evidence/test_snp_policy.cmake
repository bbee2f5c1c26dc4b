# The policy engine on top of the SNP claims (links every module, like every test).
include(${CMAKE_CURRENT_LIST_DIR}/test_snp_sources.cmake)

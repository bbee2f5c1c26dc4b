# Shared by the SNP / Azure CVM test programs. They link every module like
# every test (cmake/attest.cmake); only the test-local include folder is added.
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/evidence)

# The SNP fuzz targets link every module like every program (cmake/attest.cmake).
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/evidence)

# The synthetic Intel platform over its own collateral folder (tests/common/devplat_fixture.h).
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/devplat_fixture.c)

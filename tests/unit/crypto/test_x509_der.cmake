# The mutation engine (tests/common/sweep.h) for the sweep of CRLs checked on their own.
target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/sweep.c)

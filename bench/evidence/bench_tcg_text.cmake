# The GCP Windows log's PCRs are read with test_tpm_lib.h's loader (tests/unit/evidence).
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/evidence)

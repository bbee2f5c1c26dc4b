# The jansson reference of the claim texts (tests/unit/evidence/tcg_text_ref.h), shared with test_tcg.
target_include_directories(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/evidence)

# The golden explain text sits beside the test (read, or rewritten with ATTEST_EXPLAIN_GOLDEN_WRITE=1).
target_compile_definitions(${ATTEST_PROGRAM} PRIVATE EXPLAIN_GOLDEN="${CMAKE_CURRENT_LIST_DIR}/test_policy_explain.golden")

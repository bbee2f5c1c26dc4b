add_dependencies(${ATTEST_PROGRAM} attestctl)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES LABELS "unit;cli;integration")

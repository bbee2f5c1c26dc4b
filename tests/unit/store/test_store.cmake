# The store suite needs only the store and base: link just those, so it
# builds while other modules are mid-edit.
set_property(TARGET ${ATTEST_PROGRAM} PROPERTY LINK_LIBRARIES attest_store attest_base PkgConfig::CMOCKA)
set_tests_properties(${ATTEST_PROGRAM} PROPERTIES TIMEOUT 120)

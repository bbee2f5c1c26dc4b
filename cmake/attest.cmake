# Helpers shared by every module's CMakeLists.txt.

# attest_module(NAME SOURCES... DEPS ...): a static library attest_<NAME> from
# src/<NAME>/, with include/ and src/ on its include path.
function(attest_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(attest_${name} STATIC ${M_SOURCES})
  target_include_directories(attest_${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(attest_${name} PUBLIC ${M_DEPS})
endfunction()

# attest_unit_test(NAME SOURCES... DEPS ... [LABELS ...] [TIMEOUT s]): a cmocka
# test registered with ctest. ATTEST_VECTORS is passed in the environment.
function(attest_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} PkgConfig::CMOCKA)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "ATTEST_VECTORS=${ATTEST_VECTORS};ATTEST_SOURCE_DIR=${CMAKE_SOURCE_DIR};ATTEST_BINARY_DIR=${CMAKE_BINARY_DIR}"
    LABELS "unit;${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

# attest_fuzz_target(NAME SOURCES... DEPS ...): a libFuzzer target, with
# fuzz/<module>/corpus/<NAME> as its seed corpus when it exists.
function(attest_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()

# attest_bench(NAME SOURCES... DEPS ...): a benchmark program (reports, never asserts).
function(attest_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE ${B_DEPS})
endfunction()

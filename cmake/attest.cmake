# Helpers shared by every module's CMakeLists.txt.

# attest_module(NAME SOURCES... DEPS ...): a static library attest_<NAME> from
# src/<NAME>/, with include/ and src/ on its include path.
function(attest_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT M_SOURCES)
    return() # a module whose first file is not written yet
  endif()
  set(deps)
  foreach(d IN LISTS M_DEPS)
    # A module not written yet is skipped; anything else must exist.
    if(NOT d MATCHES "^attest_" OR TARGET ${d})
      list(APPEND deps ${d})
    endif()
  endforeach()
  add_library(attest_${name} STATIC ${M_SOURCES})
  target_include_directories(attest_${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(attest_${name} PUBLIC ${deps})
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
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_link_libraries(${name} PRIVATE ${F_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()

# attest_bench(NAME SOURCES... DEPS ...): a benchmark program (reports, never asserts).
function(attest_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  target_link_libraries(${name} PRIVATE ${B_DEPS})
endfunction()

# Every module library that exists, for programs that may use any of them.
function(attest_all_modules out)
  set(libs)
  foreach(mod IN LISTS ATTEST_MODULES)
    if(TARGET attest_${mod})
      list(APPEND libs attest_${mod})
    endif()
  endforeach()
  set(${out} ${libs} PARENT_SCOPE)
endfunction()

# attest_glob_programs(DIR KIND): KIND is test, fuzz or bench. If DIR has a
# CMakeLists.txt it is added as is. Otherwise each KIND_*.c in DIR becomes a
# program of that name linked with every module; DIR/<name>.cmake, when
# present, is included after it is defined (to set labels, timeouts, extra
# sources, or arguments).
function(attest_glob_programs dir kind)
  set(full "${CMAKE_SOURCE_DIR}/${dir}")
  if(NOT IS_DIRECTORY "${full}")
    return()
  endif()
  if(EXISTS "${full}/CMakeLists.txt")
    add_subdirectory(${dir})
    return()
  endif()
  attest_all_modules(libs)
  file(GLOB sources CONFIGURE_DEPENDS "${full}/${kind}_*.c")
  foreach(src IN LISTS sources)
    get_filename_component(name "${src}" NAME_WE)
    if(kind STREQUAL "test")
      attest_unit_test(${name} SOURCES ${src} DEPS ${libs})
    elseif(kind STREQUAL "fuzz")
      attest_fuzz_target(${name} SOURCES ${src} DEPS ${libs})
      target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
    else()
      attest_bench(${name} SOURCES ${src} DEPS ${libs})
      target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common ${CMAKE_SOURCE_DIR}/bench/common)
    endif()
    set(ATTEST_PROGRAM ${name})
    if(EXISTS "${full}/${name}.cmake")
      include("${full}/${name}.cmake")
    endif()
  endforeach()
endfunction()

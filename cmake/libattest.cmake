# libattest, the shared library for relying parties: the offline modules only,
# each archive included whole.
set(_attest_parts)
foreach(mod base crypto claims policy collateral evidence token api)
  if(TARGET attest_${mod})
    list(APPEND _attest_parts attest_${mod})
  endif()
endforeach()
# A fuzz build instruments every object for libFuzzer, whose runtime only the
# fuzz programs link: the shared library is not built there.
if(_attest_parts AND NOT ATTEST_FUZZ)
  set(_attest_files)
  foreach(p IN LISTS _attest_parts)
    list(APPEND _attest_files $<TARGET_FILE:${p}>)
  endforeach()
  add_library(attest SHARED ${CMAKE_SOURCE_DIR}/cmake/libattest.c)
  add_dependencies(attest ${_attest_parts})
  target_link_libraries(attest PRIVATE -Wl,--whole-archive ${_attest_files} -Wl,--no-whole-archive
    PkgConfig::OPENSSL PkgConfig::JANSSON PkgConfig::TSS2MU PkgConfig::CURL m -pthread)
  # Every symbol resolves at link time; only the public interface is exported,
  # so internal names (sha256, hash_len, ...) never clash with the user's.
  target_link_options(attest PRIVATE -Wl,--no-undefined -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/libattest.map)
  set_target_properties(attest PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/libattest.map)
  target_include_directories(attest PUBLIC ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(attest PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION 0)
endif()

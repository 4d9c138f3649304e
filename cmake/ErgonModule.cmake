# ergon_module(NAME SOURCES ... DEPS ...): one folder = one library target `ergon_NAME`
# with the alias `ergon::NAME`. Include paths start at the repository root.
function(ergon_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(ergon_${name} STATIC ${ARG_SOURCES})
  add_library(ergon::${name} ALIAS ergon_${name})
  target_include_directories(ergon_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(ergon_${name} PUBLIC ${ARG_DEPS} PRIVATE ergon_warnings ${ARG_PRIVATE_DEPS})
endfunction()

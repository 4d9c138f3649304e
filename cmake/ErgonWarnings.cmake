# ergon_warnings: the one set of warning flags every first-party target links.
add_library(ergon_warnings INTERFACE)
target_compile_options(ergon_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Woverloaded-virtual -Wold-style-cast -Wimplicit-fallthrough -Wnull-dereference
  $<$<BOOL:${ERGON_WERROR}>:-Werror>)

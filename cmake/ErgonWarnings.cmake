# ergon_warnings: the one set of warning flags every first-party target links.
# -Wnull-dereference is left out: at -O2 g++ 12 reports false positives inside libstdc++'s
# std::string moves (inlined from CLI11), which -Werror would turn into a broken release build.
add_library(ergon_warnings INTERFACE)
target_compile_options(ergon_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Woverloaded-virtual -Wold-style-cast -Wimplicit-fallthrough
  $<$<BOOL:${ERGON_WERROR}>:-Werror>)

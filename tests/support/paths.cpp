#include "tests/support/paths.h"

#include <fstream>
#include <sstream>

namespace ergon::testing {

std::filesystem::path test_data_dir() { return ERGON_TEST_DATA_DIR; }
std::filesystem::path reference_dir() { return ERGON_REFERENCE_DIR; }
std::filesystem::path binary_dir() { return ERGON_BINARY_DIR; }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace ergon::testing

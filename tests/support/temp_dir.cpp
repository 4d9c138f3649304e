#include "tests/support/temp_dir.h"

#include <string>

#include "shared/core/ids.h"

namespace ergon::testing {

TempDir::TempDir()
    : path_(std::filesystem::temp_directory_path() /
            ("ergon-test-" + core::ProposalId::random().hex().substr(0, 12))) {
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ergon::testing

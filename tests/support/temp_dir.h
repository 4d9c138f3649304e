#pragma once
// TempDir: a fresh directory under the system temp folder, removed with everything in it when
// the object dies. Move-only; not thread-safe.

#include <filesystem>

namespace ergon::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace ergon::testing

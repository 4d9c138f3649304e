#pragma once
// An exclusive lock on a server data folder: a flock on DIR/ergond.lock. `ergond serve` holds it
// while it serves; `ergond restore` takes it, so a store is never replaced under a running
// server. The kernel drops it when the holder exits, however it exits. Move-only.

#include <filesystem>
#include <optional>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::server::backup {

inline constexpr std::string_view kLockFile = "ergond.lock";

class DataLock {
 public:
  /// Takes the lock, or kUnavailable naming the process that holds it and `what_to_do`.
  static core::Result<DataLock> acquire(const std::filesystem::path& dir,
                                        std::string_view what_to_do);
  /// The process id holding the lock on `dir`, if any (nothing is held after the call).
  static std::optional<long> holder(const std::filesystem::path& dir);

  DataLock(DataLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataLock& operator=(DataLock&&) = delete;
  DataLock(const DataLock&) = delete;
  DataLock& operator=(const DataLock&) = delete;
  ~DataLock();

 private:
  explicit DataLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ergon::server::backup

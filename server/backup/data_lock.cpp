#include "server/backup/data_lock.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace ergon::server::backup {

using core::ErrorCode;
using core::fail;

namespace {

// The pid the holder wrote into the lock file ("" when unreadable).
std::string recorded_pid(int fd) {
  char text[32] = {};
  auto got = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid = got > 0 ? std::string(text, static_cast<std::size_t>(got)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

core::Result<DataLock> DataLock::acquire(const std::filesystem::path& dir,
                                         std::string_view what_to_do) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return fail(ErrorCode::kNotFound, "no server store in " + dir.string() +
                                          "; create one with 'ergond init --data " + dir.string() +
                                          "'");
  auto path = dir / kLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(ErrorCode::kStorage, "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    auto pid = recorded_pid(fd);
    ::close(fd);
    return fail(ErrorCode::kUnavailable, "a server is running on " + dir.string() + " (process " +
                                             (pid.empty() ? std::string("unknown") : pid) +
                                             " holds " + path.string() +
                                             "): " + std::string(what_to_do));
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    ::close(fd);
    return fail(ErrorCode::kStorage, "cannot write " + path.string());
  }
  return DataLock(fd);
}

std::optional<long> DataLock::holder(const std::filesystem::path& dir) {
  int fd = ::open((dir / kLockFile).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<long> pid;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    auto text = recorded_pid(fd);
    pid = text.empty() ? 0L : std::strtol(text.c_str(), nullptr, 10);
  }
  ::close(fd);
  return pid;
}

DataLock::~DataLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace ergon::server::backup

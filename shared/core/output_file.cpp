#include "shared/core/output_file.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ergon::core {

namespace {

Error storage_error(const std::string& what, const std::filesystem::path& path, int error) {
  return Error{ErrorCode::kStorage, what + " " + path.string() + ": " + std::strerror(error) +
                                        "; check that the folder exists, is writable and has "
                                        "room"};
}

}  // namespace

Result<OutputFile> OutputFile::create(const std::filesystem::path& target, FileMode mode) {
  auto folder = target.parent_path();
  if (folder.empty()) folder = ".";
  // A hidden name in the target's folder, so the rename stays on one file system; mkostemp
  // replaces the six X of its template with random characters.
  std::string pattern = (folder / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);  // O_CREAT | O_EXCL, mode 0600
  if (fd < 0) return fail(storage_error("cannot create a file beside", target, errno));
  std::FILE* stream = ::fdopen(fd, "wb");
  if (!stream) {
    int error = errno;
    ::close(fd);
    ::unlink(pattern.c_str());
    return fail(storage_error("cannot open a file beside", target, error));
  }
  return OutputFile(target, pattern, stream, mode);
}

OutputFile::OutputFile(std::filesystem::path target, std::filesystem::path temporary,
                       std::FILE* stream, FileMode mode)
    : target_(std::move(target)), temporary_(std::move(temporary)), stream_(stream), mode_(mode) {}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : target_(std::move(other.target_)),
      temporary_(std::move(other.temporary_)),
      stream_(std::exchange(other.stream_, nullptr)),
      mode_(other.mode_),
      committed_(std::exchange(other.committed_, true)) {}

OutputFile::~OutputFile() {
  if (stream_) std::fclose(stream_);
  if (!committed_) ::unlink(temporary_.c_str());
}

Status OutputFile::write(std::string_view bytes) {
  if (!stream_ || std::fwrite(bytes.data(), 1, bytes.size(), stream_) != bytes.size())
    return fail(storage_error("cannot write", temporary_, errno));
  return {};
}

Status OutputFile::commit() {
  if (!stream_ || committed_)
    return fail(ErrorCode::kInternal, "the output file " + target_.string() + " was committed");
  int fd = ::fileno(stream_);
  bool ok = std::fflush(stream_) == 0 && ::fsync(fd) == 0 &&
            ::fchmod(fd, static_cast<mode_t>(mode_)) == 0;
  int error = errno;
  ok = std::fclose(std::exchange(stream_, nullptr)) == 0 && ok;
  if (!ok) return fail(storage_error("cannot write", target_, error));
  if (::rename(temporary_.c_str(), target_.c_str()) != 0)
    return fail(storage_error("cannot move the finished file to", target_, errno));
  committed_ = true;
  return {};
}

Status write_file(const std::filesystem::path& target, std::string_view bytes, FileMode mode) {
  auto out = OutputFile::create(target, mode);
  if (!out) return fail(out.error());
  ERGON_TRY(out->write(bytes));
  return out->commit();
}

}  // namespace ergon::core

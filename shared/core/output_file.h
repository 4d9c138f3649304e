#pragma once
// Writing a file whole, never through a link someone planted. The bytes go to a new file that
// mkstemp creates exclusively (O_CREAT|O_EXCL, and a name no one can guess) in the target's own
// folder; commit() flushes it to disk, sets its mode and renames it over the target, which
// replaces whatever stands at that name (a symbolic link included) instead of writing through
// it. An OutputFile dropped before commit() removes its file. The folder may be a USB stick or
// a shared one: no predictable name (`OUT.partial`, `OUT.tmp`) is ever opened for writing.

#include <cstdio>
#include <filesystem>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::core {

/// Who may read the finished file: its owner only (stores, keys, backups, bundles), or everyone
/// who can read the folder (reports, exports, reference lists).
enum class FileMode { kPrivate = 0600, kShared = 0644 };

class OutputFile {
 public:
  /// A new, empty, private file beside `target`; kStorage when the folder cannot take one.
  [[nodiscard]] static Result<OutputFile> create(const std::filesystem::path& target,
                                                 FileMode mode);
  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  /// The stream to write to (open until commit()).
  std::FILE* stream() const { return stream_; }
  /// The temporary file's path, for a library that opens files by name (libxlsxwriter).
  const std::filesystem::path& temporary() const { return temporary_; }
  [[nodiscard]] Status write(std::string_view bytes);
  /// Flushes to disk, sets the mode, renames over the target. Once only.
  [[nodiscard]] Status commit();

 private:
  OutputFile(std::filesystem::path target, std::filesystem::path temporary, std::FILE* stream,
             FileMode mode);
  std::filesystem::path target_, temporary_;
  std::FILE* stream_ = nullptr;
  FileMode mode_;
  bool committed_ = false;
};

/// `bytes` as the whole of `target`, through an OutputFile.
[[nodiscard]] Status write_file(const std::filesystem::path& target, std::string_view bytes,
                                FileMode mode);

}  // namespace ergon::core

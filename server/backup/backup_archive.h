#pragma once
// A backup file: named files (the server database as one consistent copy, the TLS key and
// certificate, a manifest) in one file, optionally encrypted with a passphrase since it holds
// the server's private key. Streamed both ways, so a large store never sits in memory.
//
// Format, version 1:
//   "ERGON-BACKUP\n" | u8 version | u8 flags (bit 0: encrypted)
//   encrypted only: 16-byte scrypt salt | 12-byte AES-256-GCM nonce
//   body (plain, or AES-256-GCM ciphertext of the same length):
//     per file: u32 name length | name | u64 size | bytes;  then u32 0
//     SHA-256 of every body byte before it (32 bytes)
//   encrypted only: the 16-byte GCM tag (the header is its associated data)
// Integers are little-endian. Free functions; thread-safe.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/core/result.h"

namespace ergon::server::backup {

inline constexpr std::string_view kArchiveMagic = "ERGON-BACKUP\n";

/// One file of an archive: from `file` on disk, or `content` when `file` is empty.
struct ArchiveEntry {
  std::string name;
  std::filesystem::path file;
  std::string content;
};

/// Writes the archive to `out` with mode 0600, encrypted when `passphrase` is given. `out`
/// appears whole (written beside it, flushed to disk, renamed into place) or not at all.
core::Status write_archive(const std::filesystem::path& out, std::span<const ArchiveEntry> entries,
                           const std::optional<std::string>& passphrase);

/// Whether `in` is an encrypted archive; kCorrupt when it is not an archive at all.
core::Result<bool> is_encrypted(const std::filesystem::path& in);

/// Extracts every file of `in` into the existing folder `dir` (names are checked: plain file
/// names only) and returns the names. Succeeds only when the checksum (and, encrypted, the tag)
/// proves every byte: a damaged file, a wrong passphrase or a truncated archive is kCorrupt,
/// and what was extracted must then be thrown away by the caller.
core::Result<std::vector<std::string>> read_archive(const std::filesystem::path& in,
                                                    const std::filesystem::path& dir,
                                                    const std::optional<std::string>& passphrase);

}  // namespace ergon::server::backup

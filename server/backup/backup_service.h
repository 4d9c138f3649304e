#pragma once
// Taking and restoring backups of a server data folder. A backup is one consistent copy of the
// store (SQLite's VACUUM INTO, while the server runs), the TLS key and certificate, and a
// manifest, in one archive (backup_archive.h). A restore brings it back under a new epoch: the
// store records the epoch in its log, and clients that meet it re-send what it lost.

#include <filesystem>
#include <optional>
#include <string>

#include "shared/core/clock.h"
#include "shared/core/result.h"

namespace ergon::server::backup {

struct BackupResult {
  std::filesystem::path file;
  std::string server_id;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;  // the last log row the backup holds
  std::int64_t at_ms = 0;
  std::uintmax_t bytes = 0;
  bool is_encrypted = false;
};

/// Backs up the store in `data` to `out` (mode 0600; encrypted when a passphrase is given)
/// and records it in the store. Works while `ergond serve` runs on `data`.
core::Result<BackupResult> take_backup(const std::filesystem::path& data,
                                       const std::filesystem::path& out,
                                       const std::optional<std::string>& passphrase,
                                       const core::Clock& clock = core::system_clock());

/// A new file name in `folder` for a backup taken at `at_ms`: ergond-YYYYMMDD-HHMMSS.backup.
std::filesystem::path backup_name_in(const std::filesystem::path& folder, std::int64_t at_ms);
/// Deletes the oldest ergond-*.backup files of `folder` beyond the newest `keep`; returns them.
core::Result<std::vector<std::filesystem::path>> prune_backups(const std::filesystem::path& folder,
                                                               std::size_t keep);

struct RestoreResult {
  std::string server_id;
  std::uint64_t from_epoch = 0;  // the backup's
  std::uint64_t epoch = 0;       // the new one
  std::uint64_t backup_seq = 0;
  std::int64_t backup_ms = 0;
  std::uint64_t replaced_seq = 0;       // the last log row of the store replaced (0: none)
  std::size_t enrolments_kept = 0;      // devices enrolled after the backup, kept
  std::size_t revocations_kept = 0;     // revocations made after the backup, kept
  std::filesystem::path replaced_into;  // where the replaced files were kept (empty: none)
};

/// Restores `from` into `data`: refused while a server holds the folder's lock, and when the
/// folder holds another server's store. The store it replaces is kept in DATA/replaced-TIME/,
/// and its enrolments and revocations newer than the backup carry over (a restore must neither
/// lock out a device enrolled since nor let a revoked one back in).
///
/// Whose backup it is: an encrypted backup is proven by its passphrase. A plain one is checked
/// only by an unkeyed hash, so anyone can re-hash an altered copy: its server key must be the
/// one `fingerprint` names (as printed at init) or, without it, the one the folder holds now;
/// with neither, it is refused unless the caller accepts it `unauthenticated`.
struct RestoreTrust {
  std::optional<std::string> fingerprint;
  bool unauthenticated = false;
};
core::Result<RestoreResult> restore_backup(const std::filesystem::path& data,
                                           const std::filesystem::path& from,
                                           const std::optional<std::string>& passphrase,
                                           const RestoreTrust& trust);

}  // namespace ergon::server::backup

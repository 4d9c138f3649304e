#include "server/backup/backup_service.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

#include "server/backup/backup_archive.h"
#include "server/backup/staging.h"
#include "server/store/master_store.h"
#include "shared/crypto/crypto.h"
#include "shared/net/tls.h"
#include "shared/storage/database.h"

namespace ergon::server::backup {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

constexpr std::string_view kManifest = "manifest.json";
constexpr std::string_view kBackupPrefix = "ergond-";
constexpr std::string_view kBackupSuffix = ".backup";

}  // namespace

std::filesystem::path backup_name_in(const std::filesystem::path& folder, std::int64_t at_ms) {
  auto base = std::string(kBackupPrefix) + utc_stamp(at_ms);
  auto path = folder / (base + std::string(kBackupSuffix));
  std::error_code ec;
  for (int n = 2; std::filesystem::exists(path, ec); ++n)
    path = folder / (base + "-" + std::to_string(n) + std::string(kBackupSuffix));
  return path;
}

core::Result<std::vector<std::filesystem::path>> prune_backups(const std::filesystem::path& folder,
                                                               std::size_t keep) {
  std::vector<std::filesystem::path> backups;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    auto name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with(kBackupPrefix) && name.ends_with(kBackupSuffix))
      backups.push_back(entry.path());
  }
  if (ec) return fail(ErrorCode::kStorage, "cannot list " + folder.string() + ": " + ec.message());
  // By the time in the name, then the number a second backup of the same second gets.
  auto taken = [](const std::filesystem::path& p) {
    auto stem = p.filename().string();
    stem = stem.substr(kBackupPrefix.size(),
                       stem.size() - kBackupPrefix.size() - kBackupSuffix.size());
    constexpr std::size_t kStampSize = 15;  // YYYYMMDD-HHMMSS
    auto rest = stem.size() > kStampSize + 1 ? stem.substr(kStampSize + 1) : std::string("1");
    return std::pair(stem.substr(0, kStampSize), std::strtoull(rest.c_str(), nullptr, 10));
  };
  std::sort(backups.begin(), backups.end(),
            [&](const auto& a, const auto& b) { return taken(a) < taken(b); });
  std::vector<std::filesystem::path> removed;
  for (std::size_t i = 0; i + keep < backups.size(); ++i) {
    std::filesystem::remove(backups[i], ec);
    if (ec) return fail(ErrorCode::kStorage, "cannot remove " + backups[i].string());
    removed.push_back(backups[i]);
  }
  return removed;
}

core::Result<BackupResult> take_backup(const std::filesystem::path& data,
                                       const std::filesystem::path& out,
                                       const std::optional<std::string>& passphrase,
                                       const core::Clock& clock) {
  auto store = MasterStore::open(data, clock);
  if (!store) return fail(store.error());
  auto target = std::filesystem::absolute(out);
  auto staging = Staging::make(target.parent_path(), "ergond-backup");
  if (!staging) return fail(staging.error());
  BackupResult r{target, store->info().server_id, 0, 0, clock.now_ms(), 0, passphrase.has_value()};
  {
    // One read transaction's view of the live store, while the server goes on writing.
    auto live =
        storage::Database::open(data / MasterStore::kDatabaseFile, storage::Durability::kFull,
                                storage::Database::Mode::kExisting);
    if (!live) return fail(live.error());
    auto copy = staging->dir / MasterStore::kDatabaseFile;
    ERGON_TRY(live->copy_to(copy));
    auto copied = MasterStore::open(staging->dir, clock);
    if (!copied) return fail(copied.error());
    auto seq = copied->last_seq();
    if (!seq) return fail(seq.error());
    r.epoch = copied->info().epoch;
    r.seq = *seq;
  }
  json manifest{
      {"format", 1},
      {"server_id", r.server_id},
      {"epoch", r.epoch},
      {"seq", r.seq},
      {"taken_ms", r.at_ms},
      {"year", store->info().year},
      {"files", json::array({MasterStore::kDatabaseFile, net::kKeyFile, net::kCertFile})}};
  std::vector<ArchiveEntry> entries = {
      {std::string(kManifest), {}, manifest.dump(2)},
      {std::string(MasterStore::kDatabaseFile), staging->dir / MasterStore::kDatabaseFile, {}},
      {std::string(net::kKeyFile), data / net::kKeyFile, {}},
      {std::string(net::kCertFile), data / net::kCertFile, {}},
  };
  ERGON_TRY(write_archive(target, entries, passphrase));
  std::error_code ec;
  r.bytes = std::filesystem::file_size(target, ec);
  ERGON_TRY(store->record_backup({r.seq, r.at_ms, target.string()}));
  return r;
}

}  // namespace ergon::server::backup

// Restoring a backup into a data folder: under the folder's lock, from a verified archive, with
// the new epoch written into the restored log before the files take the store's place.

#include <ctime>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "server/backup/backup_archive.h"
#include "server/backup/backup_service.h"
#include "server/backup/data_lock.h"
#include "server/backup/staging.h"
#include "server/store/master_store.h"
#include "shared/crypto/crypto.h"
#include "shared/net/tls.h"

namespace ergon::server::backup {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

// The files of a data folder a restore replaces (the database with its WAL, the TLS identity).
std::vector<std::string> store_files() {
  auto db = std::string(MasterStore::kDatabaseFile);
  return {db, db + "-wal", db + "-shm", std::string(net::kKeyFile), std::string(net::kCertFile)};
}

core::Status sync_folder(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kStorage, "cannot open the folder " + dir.string());
  int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return fail(ErrorCode::kStorage, "cannot flush the folder " + dir.string());
  return {};
}

struct Manifest {
  std::string server_id;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::int64_t taken_ms = 0;
};

core::Result<Manifest> read_manifest(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", 0) != 1)
    return fail(ErrorCode::kCorrupt, "the backup's manifest is not one this ergond reads");
  try {
    return Manifest{j.at("server_id").get<std::string>(), j.at("epoch").get<std::uint64_t>(),
                    j.at("seq").get<std::uint64_t>(), j.at("taken_ms").get<std::int64_t>()};
  } catch (const json::exception& e) {
    return fail(ErrorCode::kCorrupt, std::string("the backup's manifest: ") + e.what());
  }
}

// The store the folder holds now, if any: its server id, epoch and last log row.
struct Present {
  std::string server_id;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
};

core::Result<std::optional<Present>> present_store(const std::filesystem::path& data) {
  std::error_code ec;
  if (!std::filesystem::exists(data / MasterStore::kDatabaseFile, ec))
    return std::optional<Present>{};
  auto store = MasterStore::open(data);
  if (!store) return std::optional(Present{});  // damaged: replaced (and kept), never read
  auto seq = store->last_seq();
  if (!seq) return std::optional(Present{});
  return std::optional(Present{store->info().server_id, store->info().epoch, *seq});
}

// Moves the store files of `data` into DATA/replaced-TIME/; returns that folder (empty: none).
core::Result<std::filesystem::path> keep_replaced(const std::filesystem::path& data) {
  std::filesystem::path kept;
  std::error_code ec;
  for (const auto& name : store_files()) {
    if (!std::filesystem::exists(data / name, ec)) continue;
    if (kept.empty()) {
      kept = data /
             ("replaced-" + utc_stamp(core::system_clock().now_ms()) + "-" + crypto::random_hex(3));
      std::filesystem::create_directories(kept, ec);
      if (ec) return fail(ErrorCode::kStorage, "cannot create " + kept.string());
    }
    std::filesystem::rename(data / name, kept / name, ec);
    if (ec) return fail(ErrorCode::kStorage, "cannot move " + name + " aside: " + ec.message());
  }
  return kept;
}

core::Status move_into_place(const std::filesystem::path& from, const std::filesystem::path& data) {
  std::error_code ec;
  for (const auto& name : store_files()) {
    if (!std::filesystem::exists(from / name, ec)) continue;
    std::filesystem::rename(from / name, data / name, ec);
    if (ec) return fail(ErrorCode::kStorage, "cannot move " + name + " into " + data.string());
  }
  return sync_folder(data);
}

// The backup's server key against what the administrator trusts (see RestoreTrust).
core::Status check_trust(const std::filesystem::path& data, const std::filesystem::path& from,
                         const std::filesystem::path& extracted, bool is_encrypted,
                         const RestoreTrust& trust) {
  ERGON_TRY(net::check_key_matches_certificate(extracted));
  if (trust.unauthenticated) return {};
  auto expected = trust.fingerprint;
  std::error_code ec;
  if (!expected && !is_encrypted && std::filesystem::exists(data / net::kCertFile, ec)) {
    auto present = net::server_fingerprint(data);
    if (!present) return fail(present.error());
    expected = *present;
  }
  if (!expected) {
    if (is_encrypted) return {};
    return fail(ErrorCode::kInvalidArgument,
                from.string() +
                    " is a plain backup, checked by a hash anyone can recompute: give the "
                    "server's fingerprint as printed at init (--fingerprint SHA256:…), or "
                    "--unauthenticated if you trust this file as it is");
  }
  auto found = net::server_fingerprint(extracted);
  if (!found) return fail(found.error());
  if (*found != *expected)
    return fail(ErrorCode::kInvalidArgument,
                from.string() + " holds the server key " + *found + ", not " + *expected +
                    (trust.fingerprint ? " (--fingerprint)" : " (this folder's server)") +
                    ": it is not this server's backup, or it was altered");
  return {};
}

}  // namespace

core::Result<RestoreResult> restore_backup(const std::filesystem::path& data,
                                           const std::filesystem::path& from,
                                           const std::optional<std::string>& passphrase,
                                           const RestoreTrust& trust) {
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return fail(ErrorCode::kStorage, "cannot create " + data.string() + ": " + ec.message());
  auto lock = DataLock::acquire(data, "stop it first (systemctl stop ergond), then restore");
  if (!lock) return fail(lock.error());
  auto staging = Staging::make(data, "restore");
  if (!staging) return fail(staging.error());
  auto names = read_archive(from, staging->dir, passphrase);
  if (!names) return fail(names.error());
  for (auto required : {std::string_view("manifest.json"), MasterStore::kDatabaseFile,
                        net::kKeyFile, net::kCertFile})
    if (std::find(names->begin(), names->end(), required) == names->end())
      return fail(ErrorCode::kCorrupt,
                  from.string() + " lacks " + std::string(required) + ": not a whole backup");
  auto manifest = read_manifest(staging->dir / "manifest.json");
  if (!manifest) return fail(manifest.error());
  auto present = present_store(data);
  if (!present) return fail(present.error());
  if (*present && !(*present)->server_id.empty() && (*present)->server_id != manifest->server_id)
    return fail(ErrorCode::kInvalidArgument,
                data.string() + " holds server " + (*present)->server_id +
                    " but the backup is of server " + manifest->server_id +
                    ": restore it into its own server's folder, or into an empty one");
  auto encrypted = is_encrypted(from);
  if (!encrypted) return fail(encrypted.error());
  ERGON_TRY(check_trust(data, from, staging->dir, *encrypted, trust));

  RestoreResult r;
  r.server_id = manifest->server_id;
  r.from_epoch = manifest->epoch;
  r.backup_seq = manifest->seq;
  r.backup_ms = manifest->taken_ms;
  r.replaced_seq = *present ? (*present)->seq : 0;
  r.epoch = std::max(manifest->epoch, *present ? (*present)->epoch : 0) + 1;
  {
    // The new epoch is in the restored log before the files take the store's place.
    auto restored = MasterStore::open(staging->dir);
    if (!restored) return fail(restored.error());
    auto began =
        restored->begin_epoch({r.epoch, r.from_epoch, r.backup_seq, r.backup_ms, r.replaced_seq});
    if (!began) return fail(began.error());
    if (*present && !(*present)->server_id.empty()) {
      auto kept = restored->adopt_devices(data / MasterStore::kDatabaseFile);
      if (!kept) return fail(kept.error());
      r.enrolments_kept = kept->first;
      r.revocations_kept = kept->second;
    }
  }
  auto kept = keep_replaced(data);
  if (!kept) return fail(kept.error());
  r.replaced_into = *kept;
  ERGON_TRY(move_into_place(staging->dir, data));
  return r;
}

}  // namespace ergon::server::backup

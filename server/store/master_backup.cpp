// Backups and restores as the store sees them: where the latest backup stands, the new epoch a
// restore begins (a row in the log, so the audit chain explains the rewind), and the health
// figures monitoring reads.

#include <filesystem>

#include "server/store/master_store.h"
#include "server/store/store_connection.h"
#include "shared/core/numbers.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kBackupSeq = "backup_seq";
constexpr std::string_view kBackupMs = "backup_ms";
constexpr std::string_view kBackupFile = "backup_file";

core::Result<std::optional<std::string>> optional_meta(StoreConnection& impl,
                                                       std::string_view key) {
  std::optional<std::string> value;
  ERGON_TRY(impl.query(
      "SELECT value FROM meta WHERE key = ?1", [&](storage::Statement& s) { s.bind(1, key); },
      [&](storage::Statement& s) { value = s.column_text(0); }));
  return value;
}

core::Status write_backup_meta(StoreConnection& impl, const BackupRecord& backup) {
  ERGON_TRY(impl.set_meta(kBackupSeq, std::to_string(backup.seq)));
  ERGON_TRY(impl.set_meta(kBackupMs, std::to_string(backup.at_ms)));
  return impl.set_meta(kBackupFile, backup.file);
}

// The log row of a restore: the server's own event, under the all-zero device id that no
// client may use, numbered by the epoch it begins (so each restore's change id is new).
changelog::Change restore_event(const RestoreFacts& facts, std::int64_t now_ms) {
  changelog::Change c;
  c.device_id = core::DeviceId(std::array<std::uint8_t, 16>{});
  c.device_seq = facts.epoch;
  c.entity = {changelog::EntityKind::kServer, "epoch"};
  c.group = "restore";
  c.values = {{"epoch", std::to_string(facts.epoch)},
              {"from_epoch", std::to_string(facts.from_epoch)},
              {"backup_seq", std::to_string(facts.backup_seq)},
              {"backup_ms", std::to_string(facts.backup_ms)},
              {"replaced_seq", std::to_string(facts.replaced_seq)}};
  c.client_time = {now_ms, 0};
  c.user = "ergond restore";
  return c;
}

}  // namespace

core::Status MasterStore::record_backup(const BackupRecord& backup) {
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  ERGON_TRY(write_backup_meta(*impl_, backup));
  return tx->commit();
}

core::Result<std::optional<BackupRecord>> MasterStore::last_backup() {
  auto seq = optional_meta(*impl_, kBackupSeq);
  auto ms = optional_meta(*impl_, kBackupMs);
  auto file = optional_meta(*impl_, kBackupFile);
  for (const auto* r : {&seq, &ms, &file})
    if (!*r) return fail(r->error());
  if (!*seq || !*ms) return std::optional<BackupRecord>{};
  auto seq_number = core::parse_number<std::uint64_t>(**seq, "the store's backup position");
  auto ms_number = core::parse_number<std::int64_t>(**ms, "the store's backup time");
  if (!seq_number) return fail(ErrorCode::kCorrupt, seq_number.error().message);
  if (!ms_number) return fail(ErrorCode::kCorrupt, ms_number.error().message);
  return std::optional(BackupRecord{*seq_number, *ms_number, file->value_or("")});
}

core::Result<changelog::Revision> MasterStore::begin_epoch(const RestoreFacts& facts) {
  if (facts.epoch <= info_.epoch)
    return fail(ErrorCode::kInvalidArgument, "a new epoch must be above " +
                                                 std::to_string(info_.epoch) + ", not " +
                                                 std::to_string(facts.epoch));
  auto batch = begin_batch();
  if (!batch) return fail(batch.error());
  const auto before = info_.epoch;
  info_.epoch = facts.epoch;  // append() numbers the row in the new epoch
  auto logged = [&]() -> core::Result<changelog::Revision> {
    ERGON_TRY(impl_->set_meta("epoch", std::to_string(facts.epoch)));
    merge::Decision decision;
    decision.kind = changelog::OutcomeKind::kAccepted;
    decision.reason = "restored from a backup of epoch " + std::to_string(facts.from_epoch) +
                      " up to log row " + std::to_string(facts.backup_seq);
    auto outcome = batch->append(restore_event(facts, impl_->clock->now_ms()), decision,
                                 Provenance{"server", merge::Role::kAuditor, ""});
    if (!outcome) return fail(outcome.error());
    ERGON_TRY(write_backup_meta(*impl_, {facts.backup_seq, facts.backup_ms, ""}));
    ERGON_TRY(batch->commit());
    return outcome->position;
  }();
  if (!logged) info_.epoch = before;
  return logged;
}

core::Result<std::pair<std::size_t, std::size_t>> MasterStore::adopt_devices(
    const std::filesystem::path& replaced_db) {
  ERGON_TRY(impl_->run("ATTACH DATABASE ?1 AS replaced",
                       [&](storage::Statement& s) { s.bind(1, replaced_db.string()); }));
  std::pair<std::size_t, std::size_t> kept{0, 0};
  auto adopted = [&]() -> core::Status {
    auto tx = impl_->db.begin_immediate();
    if (!tx) return fail(tx.error());
    // A client id bound in both stays with the backup's enrolment; the newer one binds again
    // at its next hello (taking over, as a re-enrolment does, when the old one is revoked).
    ERGON_TRY(impl_->db.exec(
        "INSERT INTO main.devices (device_id, client_device_id, role, directorate, name, "
        "secret_hash, bundle_key, enrolled_ms, revoked, high_water, public_key, last_seen_ms) "
        "SELECT r.device_id, CASE WHEN r.client_device_id IN (SELECT client_device_id FROM "
        "main.devices WHERE client_device_id IS NOT NULL) THEN NULL ELSE r.client_device_id END, "
        "r.role, r.directorate, r.name, r.secret_hash, r.bundle_key, r.enrolled_ms, r.revoked, 0, "
        "CASE WHEN r.client_device_id IN (SELECT client_device_id FROM main.devices WHERE "
        "client_device_id IS NOT NULL) THEN x'' ELSE r.public_key END, r.last_seen_ms "
        "FROM replaced.devices r WHERE r.device_id NOT IN (SELECT device_id FROM main.devices)"));
    kept.first = static_cast<std::size_t>(impl_->db.changes());
    ERGON_TRY(impl_->db.exec(
        "UPDATE main.devices SET revoked = 1 WHERE revoked = 0 AND device_id IN (SELECT "
        "device_id FROM replaced.devices WHERE revoked = 1)"));
    kept.second = static_cast<std::size_t>(impl_->db.changes());
    return tx->commit();
  }();
  auto detached = impl_->db.exec("DETACH DATABASE replaced");
  if (!adopted) return fail(adopted.error());
  if (!detached) return fail(detached.error());
  return kept;
}

core::Result<StoreHealth> MasterStore::health() {
  StoreHealth h;
  auto seq = last_seq();
  if (!seq) return fail(seq.error());
  h.log_seq = *seq;
  auto count = [&](std::string_view sql, std::size_t& out) {
    return impl_->query(
        sql, [](storage::Statement&) {},
        [&](storage::Statement& s) { out = static_cast<std::size_t>(s.column_int64(0)); });
  };
  ERGON_TRY(count("SELECT count(*) FROM conflicts WHERE status = 'open'", h.open_conflicts));
  ERGON_TRY(count("SELECT count(*) FROM flags WHERE status = 'open'", h.open_flags));
  ERGON_TRY(count("SELECT count(*) FROM devices WHERE revoked = 0", h.devices));
  auto backup = last_backup();
  if (!backup) return fail(backup.error());
  h.backup = *backup;
  std::error_code ec;
  for (const auto* suffix : {"", "-wal"}) {
    auto size = std::filesystem::file_size(impl_->db.path().string() + suffix, ec);
    if (!ec) h.log_bytes += static_cast<std::int64_t>(size);
  }
  return h;
}

}  // namespace ergon::server

#pragma once
// StoreConnection: the master store's SQLite connection and the row mapping every part of the
// store shares (settings, proposals, revisions, devices, log entries), with its statements
// prepared once and kept. Internal to server/store: the public face is MasterStore.
// One thread; owned by its MasterStore.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/store/master_store.h"
#include "shared/changelog/canonical.h"
#include "shared/changelog/field_value_io.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"

namespace ergon::server {

/// The state digest as stored in meta (64 hex digits).
core::Result<crypto::Digest> parse_digest(const std::string& hex);

class StoreConnection {
 public:
  StoreConnection(storage::Database database, const core::Clock* store_clock)
      : db(std::move(database)), clock(store_clock) {}
  // The statement cache points at `db`: the connection stays where it was made.
  StoreConnection(StoreConnection&&) = delete;
  StoreConnection& operator=(StoreConnection&&) = delete;
  StoreConnection(const StoreConnection&) = delete;
  StoreConnection& operator=(const StoreConnection&) = delete;
  ~StoreConnection() = default;

  storage::Database db;
  const core::Clock* clock;
  storage::StatementCache statements{db};

  /// Runs the cached statement for `sql` (a constant), calling `row` for each result row;
  /// `row` returns void or a core::Status that stops the walk.
  template <class Bind, class Row>
  [[nodiscard]] core::Status query(std::string_view sql, Bind&& bind, Row&& row) {
    auto stmt = statements.get(sql);
    if (!stmt) return core::fail(stmt.error());
    bind(**stmt);
    return (*stmt)->for_each(std::forward<Row>(row));
  }

  template <class Bind>
  [[nodiscard]] core::Status run(std::string_view sql, Bind&& bind) {
    return query(sql, std::forward<Bind>(bind), [](storage::Statement&) {});
  }

  /// A setting from meta; kCorrupt when missing.
  [[nodiscard]] core::Result<std::string> meta(std::string_view key);
  [[nodiscard]] core::Status set_meta(std::string_view key, std::string_view value);
  [[nodiscard]] core::Result<std::optional<model::Proposal>> proposal(const std::string& id);
  /// The groups of `entity` (a proposal id, or envelope_entity(KEY)) that a device other than
  /// `device` changed (accepted, a new revision) after `horizon`. One row per group of the
  /// revisions table (schema step 9), however long the entity's history.
  [[nodiscard]] core::Result<std::set<std::string>> groups_changed_by_others(
      const std::string& entity, const core::DeviceId& device, const changelog::Revision& horizon);

  /// Which devices a lookup selects.
  enum class DeviceKey { kEnrolledId, kClientDeviceId, kEnrolledIdPrefix, kEvery };
  [[nodiscard]] core::Result<std::vector<DeviceRecord>> devices(DeviceKey by, std::string_view key);
  /// The one device whose id (DeviceKey kEnrolledId or kClientDeviceId) is `key`; kNotFound.
  [[nodiscard]] core::Result<DeviceRecord> device(DeviceKey by, std::string_view key);
};

/// An outcome from the log's columns, starting at `first` (kOutcomeColumns order); a damaged
/// outcome kind is kCorrupt.
core::Result<changelog::Outcome> outcome_from_row(storage::Statement& s, int first);
inline constexpr std::string_view kOutcomeColumns =
    "epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq";

/// A revisions row (entity, grp, epoch, seq, device_id, device_seq) with the user and device
/// clock of the change that set it.
core::Result<changelog::RevisionRow> revision_row(storage::Statement& s);

/// A stored chain hash: exactly 32 bytes, else kCorrupt.
core::Result<crypto::Digest> hash_column(storage::Statement& s, int index);

/// A log row selected as "SELECT <kOutcomeColumns>, change_id, canonical, hash FROM log ...".
core::Result<changelog::LogEntry> log_entry_row(storage::Statement& s);

/// Log entries from `sql`, a constant selecting the columns log_entry_row reads, with its
/// parameters bound by `bind`.
template <class Bind>
core::Result<std::vector<changelog::LogEntry>> read_entries(StoreConnection& store,
                                                            std::string_view sql, Bind&& bind) {
  auto stmt = store.statements.get(sql);
  if (!stmt) return core::fail(stmt.error());
  bind(**stmt);
  return (*stmt)->collect<changelog::LogEntry>(log_entry_row);
}

}  // namespace ergon::server

#pragma once
// StoreConnection: the master store's SQLite connection and the row mapping every part of the
// store shares (settings, proposals, revisions, devices, log entries), with its statements
// prepared once and kept. Internal to server/store: the public face is MasterStore.
// One thread; owned by its MasterStore.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/store/master_store.h"
#include "shared/changelog/canonical.h"
#include "shared/changelog/field_value_io.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"

namespace ergon::server {

inline std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
inline std::uint64_t u64(std::int64_t v) { return static_cast<std::uint64_t>(v); }

/// The state digest as stored in meta (64 hex digits).
core::Result<crypto::Digest> parse_digest(const std::string& hex);

class StoreConnection {
 public:
  StoreConnection(storage::Database database, const core::Clock* store_clock)
      : db(std::move(database)), clock(store_clock) {}

  storage::Database db;
  const core::Clock* clock;
  std::unordered_map<std::string, storage::Statement> statements;

  core::Result<storage::Statement*> sql(std::string_view text) {
    auto it = statements.find(std::string(text));
    if (it == statements.end()) {
      auto prepared = db.prepare(text);
      if (!prepared) return core::fail(prepared.error());
      it = statements.emplace(std::string(text), std::move(*prepared)).first;
    }
    it->second.reset();
    return &it->second;
  }

  /// Runs a statement, calling `row` for each result row.
  template <class Bind, class Row>
  core::Status query(std::string_view text, Bind&& bind, Row&& row) {
    auto stmt = sql(text);
    if (!stmt) return core::fail(stmt.error());
    bind(**stmt);
    for (;;) {
      auto r = (*stmt)->step();
      if (!r) return core::fail(r.error());
      if (*r == storage::StepResult::kDone) break;
      row(**stmt);
    }
    (*stmt)->reset();
    return {};
  }

  template <class Bind>
  core::Status run(std::string_view text, Bind&& bind) {
    return query(text, std::forward<Bind>(bind), [](storage::Statement&) {});
  }

  core::Result<std::string> meta(std::string_view key) {
    std::optional<std::string> value;
    ERGON_TRY(query(
        "SELECT value FROM meta WHERE key = ?1", [&](storage::Statement& s) { s.bind(1, key); },
        [&](storage::Statement& s) { value = s.column_text(0); }));
    if (!value)
      return core::fail(core::ErrorCode::kCorrupt,
                        "the store has no setting '" + std::string(key) + "'");
    return *value;
  }

  core::Status set_meta(std::string_view key, std::string_view value) {
    return run(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
        "excluded.value",
        [&](storage::Statement& s) { s.bind(1, key).bind(2, value); });
  }

  core::Result<std::optional<model::Proposal>> proposal(const std::string& id) {
    std::optional<std::string> blob;
    ERGON_TRY(query(
        "SELECT vals FROM proposals WHERE id = ?1", [&](storage::Statement& s) { s.bind(1, id); },
        [&](storage::Statement& s) { blob = s.column_blob(0); }));
    if (!blob) return std::optional<model::Proposal>{};
    auto values = changelog::decode_values(*blob);
    if (!values) return core::fail(values.error());
    model::Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok)
      return core::fail(core::ErrorCode::kCorrupt,
                        "stored proposal " + id + ": " + ok.error().message);
    return std::optional<model::Proposal>(std::move(p));
  }

  core::Result<std::optional<merge::GroupRevision>> revision(const std::string& entity,
                                                             std::string_view group) {
    std::optional<merge::GroupRevision> rev;
    core::Status bad;
    ERGON_TRY(query(
        "SELECT epoch, seq, device_id, device_seq FROM revisions WHERE entity = ?1 AND grp = ?2",
        [&](storage::Statement& s) { s.bind(1, entity).bind(2, group); },
        [&](storage::Statement& s) {
          auto device = core::DeviceId::parse(s.column_text(2));
          if (!device) bad = core::fail(device.error());
          rev = merge::GroupRevision{{u64(s.column_int64(0)), u64(s.column_int64(1))},
                                     device.value_or(core::DeviceId{}),
                                     u64(s.column_int64(3))};
        }));
    ERGON_TRY(bad);
    return rev;
  }

  core::Result<DeviceRecord> device_where(std::string_view where, std::string_view key) {
    auto found = devices_where(std::string(where) + " = ?1", key);
    if (!found) return core::fail(found.error());
    if (found->empty())
      return core::fail(core::ErrorCode::kNotFound, "no enrolled device " + std::string(key));
    return found->front();
  }

  core::Result<std::vector<DeviceRecord>> devices_where(const std::string& where,
                                                        std::string_view key) {
    std::vector<DeviceRecord> found;
    core::Status bad;
    std::string text =
        "SELECT device_id, client_device_id, role, directorate, name, revoked, high_water, "
        "public_key, enrolled_ms, last_seen_ms FROM devices WHERE " +
        where + " ORDER BY enrolled_ms, device_id";
    ERGON_TRY(query(
        text, [&](storage::Statement& s) { s.bind(1, key); },
        [&](storage::Statement& s) {
          DeviceRecord d;
          d.device_id = s.column_text(0);
          if (!s.column_is_null(1)) {
            auto id = core::DeviceId::parse(s.column_text(1));
            if (!id)
              bad = core::fail(core::ErrorCode::kCorrupt,
                               "device " + d.device_id + ": " + id.error().message);
            else
              d.client_device_id = *id;
          }
          auto role = merge::parse_role(s.column_text(2));
          if (!role)
            bad = core::fail(core::ErrorCode::kCorrupt,
                             "device " + d.device_id + ": " + role.error().message);
          else
            d.role = *role;
          d.directorate = s.column_text(3);
          d.name = s.column_text(4);
          d.is_revoked = s.column_int64(5) != 0;
          d.high_water_mark = u64(s.column_int64(6));
          d.public_key = s.column_blob(7);
          d.enrolled_ms = s.column_int64(8);
          d.last_seen_ms = s.column_int64(9);
          found.push_back(std::move(d));
        }));
    ERGON_TRY(bad);
    return found;
  }
};

/// An outcome from the log's columns, starting at `first` (kOutcomeColumns order).
changelog::Outcome outcome_from_row(storage::Statement& s, int first);
inline constexpr std::string_view kOutcomeColumns =
    "epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq";

/// A revisions row (entity, grp, epoch, seq, device_id, device_seq).
core::Result<changelog::RevisionRow> revision_row(storage::Statement& s);

// Reads log entries selected by `where` (with its parameters bound by `bind`).
template <class Bind>
core::Result<std::vector<changelog::LogEntry>> read_entries(StoreConnection& impl,
                                                            std::string_view where, Bind&& bind) {
  std::vector<changelog::LogEntry> out;
  core::Status bad;
  ERGON_TRY(impl.query("SELECT " + std::string(kOutcomeColumns) +
                           ", change_id, canonical, hash FROM log " + std::string(where),
                       std::forward<Bind>(bind), [&](storage::Statement& s) {
                         changelog::LogEntry e;
                         e.outcome = outcome_from_row(s, 0);
                         e.outcome.change_id = s.column_text(7);
                         auto change = changelog::parse_canonical(s.column_blob(8));
                         if (!change)
                           bad = core::fail(change.error());
                         else
                           e.change = std::move(*change);
                         auto hash = s.column_blob(9);
                         std::copy_n(hash.begin(), std::min<std::size_t>(hash.size(), 32),
                                     e.hash.begin());
                         out.push_back(std::move(e));
                       }));
  ERGON_TRY(bad);
  return out;
}

}  // namespace ergon::server

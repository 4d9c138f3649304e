#include "server/store/store_connection.h"

namespace ergon::server {

using changelog::Revision;
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kDeviceByEnrolledId =
    "SELECT device_id, client_device_id, role, directorate, name, revoked, high_water, "
    "public_key, enrolled_ms, last_seen_ms FROM devices WHERE device_id = ?1";
constexpr std::string_view kDeviceByClientId =
    "SELECT device_id, client_device_id, role, directorate, name, revoked, high_water, "
    "public_key, enrolled_ms, last_seen_ms FROM devices WHERE client_device_id = ?1";
constexpr std::string_view kDevicesByPrefix =
    "SELECT device_id, client_device_id, role, directorate, name, revoked, high_water, "
    "public_key, enrolled_ms, last_seen_ms FROM devices WHERE substr(device_id, 1, "
    "length(?1)) = ?1 ORDER BY enrolled_ms, device_id";
constexpr std::string_view kEveryDevice =
    "SELECT device_id, client_device_id, role, directorate, name, revoked, high_water, "
    "public_key, enrolled_ms, last_seen_ms FROM devices WHERE ?1 IS NOT NULL ORDER BY "
    "enrolled_ms, device_id";

std::string_view device_sql(StoreConnection::DeviceKey by) {
  switch (by) {
    case StoreConnection::DeviceKey::kEnrolledId:
      return kDeviceByEnrolledId;
    case StoreConnection::DeviceKey::kClientDeviceId:
      return kDeviceByClientId;
    case StoreConnection::DeviceKey::kEnrolledIdPrefix:
      return kDevicesByPrefix;
    case StoreConnection::DeviceKey::kEvery:
      break;
  }
  return kEveryDevice;
}

core::Result<DeviceRecord> device_row(storage::Statement& s) {
  DeviceRecord d;
  d.device_id = s.column_text(0);
  auto damaged = [&](const core::Error& e) {
    return fail(ErrorCode::kCorrupt, "device " + d.device_id + ": " + e.message);
  };
  if (!s.column_is_null(1)) {
    auto id = core::DeviceId::parse(s.column_text(1));
    if (!id) return damaged(id.error());
    d.client_device_id = *id;
  }
  auto role = merge::parse_role(s.column_text(2));
  if (!role) return damaged(role.error());
  d.role = *role;
  d.directorate = s.column_text(3);
  d.name = s.column_text(4);
  d.is_revoked = s.column_int64(5) != 0;
  d.high_water_mark = s.column_uint64(6);
  d.public_key = s.column_blob(7);
  d.enrolled_ms = s.column_int64(8);
  d.last_seen_ms = s.column_int64(9);
  return d;
}

}  // namespace

core::Result<crypto::Digest> parse_digest(const std::string& hex) {
  auto value = crypto::digest_from_hex(hex);
  if (!value) return fail(ErrorCode::kCorrupt, "the stored state digest is damaged");
  return *value;
}

core::Result<std::string> StoreConnection::meta(std::string_view key) {
  std::optional<std::string> value;
  ERGON_TRY(query(
      "SELECT value FROM meta WHERE key = ?1", [&](storage::Statement& s) { s.bind(1, key); },
      [&](storage::Statement& s) { value = s.column_text(0); }));
  if (!value)
    return fail(ErrorCode::kCorrupt, "the store has no setting '" + std::string(key) + "'");
  return *value;
}

core::Status StoreConnection::set_meta(std::string_view key, std::string_view value) {
  return run(
      "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value",
      [&](storage::Statement& s) { s.bind(1, key).bind(2, value); });
}

core::Result<std::optional<model::Proposal>> StoreConnection::proposal(const std::string& id) {
  std::optional<std::string> blob;
  ERGON_TRY(query(
      "SELECT vals FROM proposals WHERE id = ?1", [&](storage::Statement& s) { s.bind(1, id); },
      [&](storage::Statement& s) { blob = s.column_blob(0); }));
  if (!blob) return std::optional<model::Proposal>{};
  auto values = changelog::decode_values(*blob);
  if (!values) return fail(values.error());
  model::Proposal p;
  if (auto ok = model::apply_values(p, *values); !ok)
    return fail(ErrorCode::kCorrupt, "stored proposal " + id + ": " + ok.error().message);
  return std::optional<model::Proposal>(std::move(p));
}

core::Result<std::set<std::string>> StoreConnection::groups_changed_by_others(
    const std::string& entity, const core::DeviceId& device, const changelog::Revision& horizon) {
  std::set<std::string> groups;
  // One row per group, whatever the entity's history: its latest revision, and the latest by
  // any device other than that one's. The latest by a device other than `device` is the first
  // when another device wrote it, else the second.
  ERGON_TRY(query(
      "SELECT grp, CASE WHEN device_id != ?2 THEN epoch ELSE other_epoch END, CASE WHEN "
      "device_id != ?2 THEN seq ELSE other_seq END FROM revisions WHERE entity = ?1",
      [&](storage::Statement& s) { s.bind(1, entity).bind(2, device.hex()); },
      [&](storage::Statement& s) {
        changelog::Revision latest{s.column_uint64(1), s.column_uint64(2)};
        if (latest > horizon) groups.insert(s.column_text(0));
      }));
  return groups;
}

core::Result<std::vector<DeviceRecord>> StoreConnection::devices(DeviceKey by,
                                                                 std::string_view key) {
  auto stmt = statements.get(device_sql(by));
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, key);
  return (*stmt)->collect<DeviceRecord>(device_row);
}

core::Result<DeviceRecord> StoreConnection::device(DeviceKey by, std::string_view key) {
  auto found = devices(by, key);
  if (!found) return fail(found.error());
  if (found->empty()) return fail(ErrorCode::kNotFound, "no enrolled device " + std::string(key));
  return found->front();
}

core::Result<changelog::Outcome> outcome_from_row(storage::Statement& s, int first) {
  changelog::Outcome o;
  o.position = {s.column_uint64(first), s.column_uint64(first + 1)};
  auto kind = changelog::parse_outcome_kind(s.column_text(first + 2));
  if (!kind)
    return fail(ErrorCode::kCorrupt, "log row " + std::to_string(o.position.seq) +
                                         " has a damaged outcome: " + kind.error().message);
  o.kind = *kind;
  o.reason = s.column_text(first + 3);
  o.is_new_revision = s.column_int64(first + 4) != 0;
  Revision conflict{s.column_uint64(first + 5), s.column_uint64(first + 6)};
  if (conflict.seq != 0) o.conflict = conflict;
  return o;
}

core::Result<changelog::RevisionRow> revision_row(storage::Statement& s) {
  auto device = core::DeviceId::parse(s.column_text(4));
  if (!device) return fail(ErrorCode::kCorrupt, "a stored revision names a damaged device id");
  return changelog::RevisionRow{
      s.column_text(0),
      s.column_text(1),
      {{s.column_uint64(2), s.column_uint64(3)}, *device, s.column_uint64(5)},
      s.column_text(6),
      s.column_int64(7)};
}

core::Result<crypto::Digest> hash_column(storage::Statement& s, int index) {
  auto bytes = s.column_blob(index);
  crypto::Digest hash{};
  if (bytes.size() != hash.size())
    return fail(ErrorCode::kCorrupt,
                "a stored chain hash has " + std::to_string(bytes.size()) + " bytes instead of 32");
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

core::Result<changelog::LogEntry> log_entry_row(storage::Statement& s) {
  changelog::LogEntry e;
  auto outcome = outcome_from_row(s, 0);
  if (!outcome) return fail(outcome.error());
  e.outcome = std::move(*outcome);
  e.outcome.change_id = s.column_text(7);
  auto change = changelog::parse_canonical(s.column_blob(8));
  if (!change)
    return fail(ErrorCode::kCorrupt, "log row " + std::to_string(e.outcome.position.seq) + ": " +
                                         change.error().message);
  e.change = std::move(*change);
  auto hash = hash_column(s, 9);
  if (!hash) return fail(hash.error());
  e.hash = *hash;
  return e;
}

}  // namespace ergon::server

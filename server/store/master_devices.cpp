// Devices and enrolment: tokens, the binding of a client's id and key, revocation.

#include "server/store/master_store.h"
#include "server/store/store_connection.h"

namespace ergon::server {

using changelog::envelope_entity;
using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

// --- devices ---

core::Result<Enrolment> MasterStore::enrol(merge::Role role, const std::string& directorate,
                                           const std::string& name) {
  if (role == merge::Role::kDirectorate && !reference_.directorate(directorate))
    return fail(ErrorCode::kInvalidArgument,
                "directorate: '" + directorate +
                    "' is not a directorate code; a directorate device needs one (e.g. DTE)");
  if (role != merge::Role::kDirectorate && !directorate.empty())
    return fail(ErrorCode::kUsage, "--directorate is only for the directorate role");
  if (name.empty())
    return fail(ErrorCode::kUsage, "--name is required: who or what is this device?");
  Enrolment e;
  e.device_id = crypto::random_hex(16);
  std::string secret = crypto::random_hex(32);
  e.token = e.device_id + "." + secret;
  auto secret_hash = crypto::sha256(secret);
  // Lets a later offline bundle be authenticated without the token travelling with it.
  auto bundle_key = crypto::bundle_key(secret);
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  ERGON_TRY(impl_->run(
      "INSERT INTO devices (device_id, role, directorate, name, secret_hash, bundle_key, "
      "enrolled_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      [&](storage::Statement& s) {
        s.bind(1, e.device_id)
            .bind(2, merge::to_string(role))
            .bind(3, directorate)
            .bind(4, name)
            .bind(5, storage::Blob{crypto::as_bytes(secret_hash)})
            .bind(6, storage::Blob{crypto::as_bytes(bundle_key)})
            .bind(7, impl_->clock->now_ms());
      }));
  ERGON_TRY(tx->commit());
  return e;
}

core::Result<DeviceRecord> MasterStore::device(std::string_view enrolled_id) {
  return impl_->device(StoreConnection::DeviceKey::kEnrolledId, enrolled_id);
}

core::Result<DeviceRecord> MasterStore::device_by_client(const core::DeviceId& client_device_id) {
  return impl_->device(StoreConnection::DeviceKey::kClientDeviceId, client_device_id.hex());
}

core::Result<DeviceRecord> MasterStore::authenticate(std::string_view token) {
  auto refused = fail(ErrorCode::kUnauthenticated,
                      "the token was refused: check it was copied whole (DEVICE.SECRET) and that "
                      "the device is enrolled and not revoked");
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return refused;
  auto device_id = token.substr(0, dot);
  auto secret = token.substr(dot + 1);
  std::optional<std::string> stored;
  bool revoked = false;
  ERGON_TRY(impl_->query(
      "SELECT secret_hash, revoked FROM devices WHERE device_id = ?1",
      [&](storage::Statement& s) { s.bind(1, device_id); },
      [&](storage::Statement& s) {
        stored = s.column_blob(0);
        revoked = s.column_int64(1) != 0;
      }));
  auto given = crypto::sha256(secret);
  if (!stored || !crypto::constant_time_equal(*stored, crypto::as_bytes(given)) || revoked)
    return refused;
  return device(device_id);
}

core::Result<DeviceRecord> MasterStore::authenticate_bundle(std::string_view enrolled_id,
                                                            std::string_view body,
                                                            std::string_view mac) {
  auto refused = fail(ErrorCode::kUnauthenticated,
                      "the bundle was refused: it is not authenticated by the enrolment it names "
                      "(damaged, made with another token, or the device is revoked)");
  std::optional<std::string> key;
  bool revoked = false;
  ERGON_TRY(impl_->query(
      "SELECT bundle_key, revoked FROM devices WHERE device_id = ?1",
      [&](storage::Statement& s) { s.bind(1, enrolled_id); },
      [&](storage::Statement& s) {
        key = s.column_blob(0);
        revoked = s.column_int64(1) != 0;
      }));
  if (!key || revoked || !crypto::constant_time_equal(crypto::hmac_sha256(*key, body), mac))
    return refused;
  return device(enrolled_id);
}

core::Result<std::optional<std::string>> MasterStore::bind(std::string_view enrolled_id,
                                                           const core::DeviceId& client_device_id,
                                                           std::string_view public_key) {
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  auto record = device(enrolled_id);
  if (!record) return fail(record.error());
  if (record->client_device_id) {
    if (*record->client_device_id != client_device_id)
      return fail(ErrorCode::kUnauthenticated,
                  "this token belongs to another device; enrol this client with its own token");
    if (!record->public_key.empty() && record->public_key != public_key)
      return fail(ErrorCode::kUnauthenticated,
                  "this client's device key is not the one bound to its enrolment: the home was "
                  "copied or its key replaced; ask the administrator for a new enrolment");
    if (record->public_key.empty())  // bound before device keys existed: bind the key now
      ERGON_TRY(impl_->run("UPDATE devices SET public_key = ?2 WHERE device_id = ?1",
                           [&](storage::Statement& s) {
                             s.bind(1, enrolled_id).bind(2, storage::Blob{public_key});
                           }));
    ERGON_TRY(tx->commit());
    return std::optional<std::string>{};
  }
  std::optional<std::string> rebound_from;
  std::uint64_t high_water = 0;
  if (auto other = device_by_client(client_device_id); other) {
    // A new token for a laptop that has one already (lost or revoked): only the holder of the
    // key bound there may move the device id, and the old enrolment ends with the move.
    if (!other->public_key.empty() && other->public_key != public_key)
      return fail(ErrorCode::kUnauthenticated,
                  "this device id is bound to enrolment " + other->device_id +
                      " with another device key; a copied home cannot take it over");
    rebound_from = other->device_id;
    high_water = other->high_water_mark;
    ERGON_TRY(
        impl_->run("UPDATE devices SET client_device_id = NULL, revoked = 1 WHERE device_id = ?1",
                   [&](storage::Statement& s) { s.bind(1, other->device_id); }));
  } else if (other.error().code != ErrorCode::kNotFound) {
    return fail(other.error());
  }
  ERGON_TRY(impl_->run(
      "UPDATE devices SET client_device_id = ?2, public_key = ?3, high_water = max(high_water, "
      "?4) WHERE device_id = ?1",
      [&](storage::Statement& s) {
        s.bind(1, enrolled_id)
            .bind(2, client_device_id.hex())
            .bind(3, storage::Blob{public_key})
            .bind(4, high_water);
      }));
  ERGON_TRY(tx->commit());
  return rebound_from;
}

core::Result<DeviceRecord> MasterStore::find_device(std::string_view id_or_prefix) {
  if (id_or_prefix.empty() ||
      id_or_prefix.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return fail(ErrorCode::kUsage, "'" + std::string(id_or_prefix.substr(0, 64)) +
                                       "' is not an enrolment id: lower-case hex, as 'ergond "
                                       "devices' prints it (a unique prefix is enough)");
  auto found = impl_->devices(StoreConnection::DeviceKey::kEnrolledIdPrefix, id_or_prefix);
  if (!found) return fail(found.error());
  if (found->empty())
    return fail(ErrorCode::kNotFound,
                "no enrolled device " + std::string(id_or_prefix) + "; see 'ergond devices'");
  if (found->size() > 1) {
    std::string names;
    for (const auto& d : *found)
      names += (names.empty() ? "" : ", ") + d.device_id + " (" + d.name + ")";
    return fail(ErrorCode::kAmbiguous, "'" + std::string(id_or_prefix) + "' matches " +
                                           std::to_string(found->size()) + " enrolments: " + names +
                                           "; give more of the id");
  }
  return found->front();
}

core::Status MasterStore::revoke(std::string_view enrolled_id) {
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  ERGON_TRY(impl_->run("UPDATE devices SET revoked = 1 WHERE device_id = ?1",
                       [&](storage::Statement& s) { s.bind(1, enrolled_id); }));
  if (impl_->db.changes() == 0)
    return fail(ErrorCode::kNotFound,
                "no enrolled device " + std::string(enrolled_id) + "; see 'ergond devices'");
  return tx->commit();
}

core::Result<std::vector<std::string>> MasterStore::revoked_devices() {
  std::vector<std::string> ids;
  ERGON_TRY(impl_->query(
      "SELECT device_id FROM devices WHERE revoked = 1", [](storage::Statement&) {},
      [&](storage::Statement& s) { ids.push_back(s.column_text(0)); }));
  return ids;
}

core::Status MasterStore::touch_last_seen(std::string_view enrolled_id) {
  return impl_->run(
      "UPDATE devices SET last_seen_ms = ?2 WHERE device_id = ?1",
      [&](storage::Statement& s) { s.bind(1, enrolled_id).bind(2, impl_->clock->now_ms()); });
}

core::Result<std::int64_t> MasterStore::data_version() {
  std::int64_t version = 0;
  ERGON_TRY(impl_->query(
      "PRAGMA data_version", [](storage::Statement&) {},
      [&](storage::Statement& s) { version = s.column_int64(0); }));
  return version;
}

core::Result<std::vector<DeviceRecord>> MasterStore::devices() {
  return impl_->devices(StoreConnection::DeviceKey::kEvery, "");
}

}  // namespace ergon::server

#include "server/store/master_store.h"

#include <set>
#include <unordered_map>

#include "server/store/schema.h"
#include "shared/changelog/canonical.h"
#include "shared/changelog/field_value_io.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"

namespace ergon::server {
namespace {

using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;
using storage::StepResult;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t u64(std::int64_t v) { return static_cast<std::uint64_t>(v); }

using changelog::envelope_entity;

core::Result<crypto::Digest> parse_digest(const std::string& hex) {
  auto first = core::parse_hex16(hex.substr(0, 32));
  auto second = core::parse_hex16(hex.size() == 64 ? hex.substr(32) : "");
  if (!first || !second) return fail(ErrorCode::kCorrupt, "the stored state digest is damaged");
  crypto::Digest value{};
  std::copy(first->begin(), first->end(), value.begin());
  std::copy(second->begin(), second->end(), value.begin() + 16);
  return value;
}

}  // namespace

// The connection and its statements, each prepared once on first use and kept.
struct MasterStore::Impl {
  storage::Database db;
  const core::Clock* clock;
  std::unordered_map<std::string, storage::Statement> statements;

  core::Result<storage::Statement*> sql(std::string_view text) {
    auto it = statements.find(std::string(text));
    if (it == statements.end()) {
      auto prepared = db.prepare(text);
      if (!prepared) return fail(prepared.error());
      it = statements.emplace(std::string(text), std::move(*prepared)).first;
    }
    it->second.reset();
    return &it->second;
  }

  /// Runs a statement, calling `row` for each result row.
  template <class Bind, class Row>
  core::Status query(std::string_view text, Bind&& bind, Row&& row) {
    auto stmt = sql(text);
    if (!stmt) return fail(stmt.error());
    bind(**stmt);
    for (;;) {
      auto r = (*stmt)->step();
      if (!r) return fail(r.error());
      if (*r == StepResult::kDone) break;
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
      return fail(ErrorCode::kCorrupt, "the store has no setting '" + std::string(key) + "'");
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
    if (!values) return fail(values.error());
    model::Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok)
      return fail(ErrorCode::kCorrupt, "stored proposal " + id + ": " + ok.error().message);
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
          if (!device) bad = fail(device.error());
          rev = merge::GroupRevision{{u64(s.column_int64(0)), u64(s.column_int64(1))},
                                     device.value_or(core::DeviceId{}),
                                     u64(s.column_int64(3))};
        }));
    ERGON_TRY(bad);
    return rev;
  }

  core::Result<DeviceRecord> device_where(std::string_view where, std::string_view key) {
    auto found = devices_where(std::string(where) + " = ?1", key);
    if (!found) return fail(found.error());
    if (found->empty()) return fail(ErrorCode::kNotFound, "no enrolled device " + std::string(key));
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
              bad = fail(ErrorCode::kCorrupt, "device " + d.device_id + ": " + id.error().message);
            else
              d.client_device_id = *id;
          }
          auto role = merge::parse_role(s.column_text(2));
          if (!role)
            bad = fail(ErrorCode::kCorrupt, "device " + d.device_id + ": " + role.error().message);
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

MasterStore::MasterStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MasterStore::MasterStore(MasterStore&&) noexcept = default;
MasterStore::~MasterStore() = default;

core::Result<MasterStore> MasterStore::create(const std::filesystem::path& dir,
                                              const std::filesystem::path& reference_dir,
                                              std::optional<int> year, const core::Clock& clock,
                                              storage::Durability durability) {
  std::error_code ec;
  if (std::filesystem::exists(dir / kDatabaseFile, ec))
    return fail(ErrorCode::kAlreadyExists,
                "a server store exists already in " + dir.string() +
                    "; it is never overwritten (choose another --data folder)");
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kStorage, "cannot create " + dir.string() + ": " + ec.message());
  auto files = model::ReferenceData::read_files(reference_dir);
  if (!files) return fail(files.error());
  auto reference = model::ReferenceData::from_files(*files);
  if (!reference) return fail(reference.error());
  int programme_year = year.value_or(
      reference->allowed_categories.empty() ? 0 : reference->allowed_categories.rbegin()->first);
  if (!reference->allowed_categories.contains(programme_year))
    return fail(ErrorCode::kInvalidArgument,
                "year: " + std::to_string(programme_year) + " is not in the reference years.csv");
  {
    auto db = storage::Database::open(dir / kDatabaseFile, durability);
    if (!db) return fail(db.error());
    ERGON_TRY(storage::migrate(*db, master_migrations()));
    Impl impl{std::move(*db), &clock, {}};
    auto tx = impl.db.begin_immediate();
    if (!tx) return fail(tx.error());
    ERGON_TRY(impl.set_meta("server_id", crypto::random_hex(16)));
    ERGON_TRY(impl.set_meta("epoch", "1"));
    ERGON_TRY(impl.set_meta("year", std::to_string(programme_year)));
    ERGON_TRY(impl.set_meta("stage", "proposals"));
    ERGON_TRY(impl.set_meta("amendment_open", "0"));
    ERGON_TRY(impl.set_meta("digest", crypto::to_hex(crypto::Digest{})));
    for (const auto& file : *files)  // not a structured binding: clang 14 cannot capture one
      ERGON_TRY(impl.run("INSERT INTO reference_files (name, content) VALUES (?1, ?2)",
                         [&](storage::Statement& s) {
                           s.bind(1, file.first).bind(2, storage::Blob{file.second});
                         }));
    ERGON_TRY(tx->commit());
  }
  return open(dir, clock, durability);
}

core::Result<MasterStore> MasterStore::open(const std::filesystem::path& dir,
                                            const core::Clock& clock,
                                            storage::Durability durability) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / kDatabaseFile, ec))
    return fail(ErrorCode::kNotFound, "no server store in " + dir.string() +
                                          "; create one with 'ergond init --data " + dir.string() +
                                          "'");
  auto db =
      storage::Database::open(dir / kDatabaseFile, durability, storage::Database::Mode::kExisting);
  if (!db && db.error().code == ErrorCode::kCorrupt)
    return fail(ErrorCode::kCorrupt,
                "the server store is damaged (" + db.error().message +
                    "); it was left as it is: restore the data folder from its latest backup");
  if (!db) return fail(db.error());
  ERGON_TRY(storage::migrate(*db, master_migrations()));
  MasterStore store(std::make_unique<Impl>(Impl{std::move(*db), &clock, {}}));
  auto& impl = *store.impl_;
  auto server_id = impl.meta("server_id");
  auto epoch = impl.meta("epoch");
  auto year = impl.meta("year");
  auto stage = impl.meta("stage");
  auto amendment = impl.meta("amendment_open");
  for (const auto* r : {&server_id, &epoch, &year, &stage, &amendment})
    if (!*r) return fail(r->error());
  store.info_.server_id = *server_id;
  store.info_.epoch = std::stoull(*epoch);
  store.info_.year = std::stoi(*year);
  store.info_.stage = merge::StageLock{*stage, *amendment == "1"};

  std::map<std::string, std::string> files;
  ERGON_TRY(impl.query(
      "SELECT name, content FROM reference_files", [](storage::Statement&) {},
      [&](storage::Statement& s) { files[s.column_text(0)] = s.column_blob(1); }));
  auto reference = model::ReferenceData::from_files(files);
  if (!reference) return fail(reference.error());
  store.reference_ = std::move(*reference);
  return store;
}

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
  auto bundle_key = crypto::sha256({"ergon-bundle-key", secret});
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
  return impl_->device_where("device_id", enrolled_id);
}

core::Result<DeviceRecord> MasterStore::device_by_client(const core::DeviceId& client_device_id) {
  return impl_->device_where("client_device_id", client_device_id.hex());
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
            .bind(4, i64(high_water));
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
  auto found = impl_->devices_where("substr(device_id, 1, length(?1)) = ?1", id_or_prefix);
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
  return impl_->devices_where("device_id != ?1", "");  // every enrolment
}

// --- batches ---

struct MasterStore::Batch::State {
  MasterStore* store;
  std::optional<storage::Transaction> tx;
  std::uint64_t last_seq = 0;
  crypto::Digest head{};
  changelog::StateDigest digest;
  std::set<int> touched_years;
};

MasterStore::Batch::Batch(std::unique_ptr<State> state) : state_(std::move(state)) {}
MasterStore::Batch::Batch(Batch&&) noexcept = default;
MasterStore::Batch::~Batch() = default;

core::Result<MasterStore::Batch> MasterStore::begin_batch() {
  auto state = std::make_unique<Batch::State>();
  state->store = this;
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  state->tx.emplace(std::move(*tx));
  // Inside the write lock: other writers (admin commands) may have appended since we last looked.
  ERGON_TRY(impl_->query(
      "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        state->last_seq = u64(s.column_int64(0));
        auto hash = s.column_blob(1);
        std::copy_n(hash.begin(), std::min<std::size_t>(hash.size(), 32), state->head.begin());
      }));
  auto digest = impl_->meta("digest");
  if (!digest) return fail(digest.error());
  auto value = parse_digest(*digest);
  if (!value) return fail(value.error());
  state->digest = changelog::StateDigest(*value);
  return Batch(std::move(state));
}

namespace {

changelog::Outcome outcome_from_row(storage::Statement& s, int first) {
  changelog::Outcome o;
  o.position = {u64(s.column_int64(first)), u64(s.column_int64(first + 1))};
  o.kind = changelog::parse_outcome_kind(s.column_text(first + 2)).value_or(OutcomeKind::kRejected);
  o.reason = s.column_text(first + 3);
  o.is_new_revision = s.column_int64(first + 4) != 0;
  Revision conflict{u64(s.column_int64(first + 5)), u64(s.column_int64(first + 6))};
  if (conflict.seq != 0) o.conflict = conflict;
  return o;
}

constexpr std::string_view kOutcomeColumns =
    "epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq";

}  // namespace

core::Result<std::optional<changelog::Outcome>> MasterStore::Batch::outcome_of(
    const changelog::Change& change) {
  std::optional<changelog::Outcome> found;
  auto id = changelog::change_id(change);
  ERGON_TRY(state_->store->impl_->query(
      "SELECT " + std::string(kOutcomeColumns) + " FROM log WHERE change_id = ?1",
      [&](storage::Statement& s) { s.bind(1, id); },
      [&](storage::Statement& s) {
        found = outcome_from_row(s, 0);
        found->change_id = id;
        found->is_duplicate = true;
      }));
  return found;
}

core::Result<merge::GroupState> MasterStore::Batch::group_state(const changelog::Change& change) {
  auto& impl = *state_->store->impl_;
  merge::GroupState gs;
  const auto& key = change.entity.key;
  if (change.entity.kind == changelog::EntityKind::kEnvelope) {
    ERGON_TRY(impl.query(
        "SELECT amount FROM envelopes WHERE key = ?1",
        [&](storage::Statement& s) { s.bind(1, key); },
        [&](storage::Statement& s) { gs.envelope = model::Money::from_cents(s.column_int64(0)); }));
    auto rev = impl.revision(envelope_entity(key), "amount");
    if (!rev) return fail(rev.error());
    gs.group = *rev;
  } else {
    auto current = impl.proposal(key);
    if (!current) return fail(current.error());
    gs.current = std::move(*current);
    auto group = impl.revision(key, change.group);
    auto life = impl.revision(key, model::kStateGroup);
    if (!group || !life) return fail(!group ? group.error() : life.error());
    gs.group = *group;
    gs.state = *life;
    ERGON_TRY(impl.query(
        "SELECT epoch, seq, device_id, device_seq FROM revisions WHERE entity = ?1 "
        "ORDER BY epoch DESC, seq DESC LIMIT 1",
        [&](storage::Statement& s) { s.bind(1, key); },
        [&](storage::Statement& s) {
          gs.latest = merge::GroupRevision{
              {u64(s.column_int64(0)), u64(s.column_int64(1))},
              core::DeviceId::parse(s.column_text(2)).value_or(core::DeviceId{}),
              u64(s.column_int64(3))};
        }));
  }
  // What the editor had seen: its base revision, or what its own earlier change had seen.
  using Kind = changelog::Base::Kind;
  if (change.base.kind == Kind::kRevision) gs.horizon = change.base.revision;
  if (change.base.kind == Kind::kOwnChange)
    ERGON_TRY(impl.query(
        "SELECT horizon_epoch, horizon_seq FROM log WHERE device_id = ?1 AND device_seq = ?2",
        [&](storage::Statement& s) {
          s.bind(1, change.device_id.hex()).bind(2, i64(change.base.own_seq));
        },
        [&](storage::Statement& s) {
          gs.horizon = {u64(s.column_int64(0)), u64(s.column_int64(1))};
        }));
  // An open conflict this device already has a change parked in.
  ERGON_TRY(impl.query(
      // Driven from the few open conflicts of this group (CROSS JOIN keeps that order), never
      // from the device's whole history in the log.
      "SELECT c.epoch, c.seq FROM conflicts c CROSS JOIN log l ON l.conflict_epoch = c.epoch AND "
      "l.conflict_seq = c.seq WHERE c.entity = ?1 AND c.grp = ?2 AND c.status = 'open' AND "
      "l.conflict_seq > 0 AND l.device_id = ?3 LIMIT 1",
      [&](storage::Statement& s) {
        s.bind(1, key).bind(2, change.group).bind(3, change.device_id.hex());
      },
      [&](storage::Statement& s) {
        gs.parked = Revision{u64(s.column_int64(0)), u64(s.column_int64(1))};
      }));
  return gs;
}

core::Result<changelog::Outcome> MasterStore::Batch::append(const changelog::Change& change,
                                                            const merge::Decision& decision) {
  auto& impl = *state_->store->impl_;
  auto& s = *state_;
  const auto& info = s.store->info_;
  changelog::Outcome outcome;
  outcome.change_id = changelog::change_id(change);
  outcome.kind = decision.kind;
  outcome.position = {info.epoch, s.last_seq + 1};
  outcome.reason = decision.reason;
  outcome.is_new_revision = decision.is_new_revision;
  const auto& key = change.entity.key;
  std::string group = change.group;

  if (decision.kind == OutcomeKind::kConflict) {
    outcome.conflict = decision.joins;
    if (!outcome.conflict)  // a conflict on a group that has one open joins it
      ERGON_TRY(impl.query(
          "SELECT epoch, seq FROM conflicts WHERE entity = ?1 AND grp = ?2 AND "
          "status = 'open' ORDER BY epoch, seq LIMIT 1",
          [&](storage::Statement& st) { st.bind(1, key).bind(2, group); },
          [&](storage::Statement& st) {
            outcome.conflict = Revision{u64(st.column_int64(0)), u64(st.column_int64(1))};
          }));
    if (!outcome.conflict) {
      outcome.conflict = outcome.position;
      ERGON_TRY(impl.run("INSERT INTO conflicts (epoch, seq, entity, grp) VALUES (?1, ?2, ?3, ?4)",
                         [&](storage::Statement& st) {
                           st.bind(1, i64(outcome.position.epoch))
                               .bind(2, i64(outcome.position.seq))
                               .bind(3, key)
                               .bind(4, group);
                         }));
    }
  }

  // What the editor had seen, kept so its later changes based on this one know it too.
  auto gs = group_state(change);
  if (!gs) return fail(gs.error());
  Revision horizon = gs->horizon;

  auto canonical = changelog::canonical_bytes(change);
  auto hash = changelog::chain_hash(s.head, change, outcome);
  auto values = changelog::encode_values(change.values);
  auto conflict = outcome.conflict.value_or(Revision{});
  ERGON_TRY(impl.run(
      "INSERT INTO log (seq, epoch, change_id, device_id, device_seq, entity_kind, entity, grp, "
      "vals, base_kind, base_epoch, base_seq, base_own_seq, hlc_wall, hlc_logical, user, outcome, "
      "reason, new_revision, conflict_epoch, conflict_seq, horizon_epoch, horizon_seq, "
      "received_ms, canonical, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
      "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
      [&](storage::Statement& st) {
        st.bind(1, i64(outcome.position.seq))
            .bind(2, i64(outcome.position.epoch))
            .bind(3, outcome.change_id)
            .bind(4, change.device_id.hex())
            .bind(5, i64(change.device_seq))
            .bind(6, std::int64_t{static_cast<int>(change.entity.kind)})
            .bind(7, key)
            .bind(8, group)
            .bind(9, storage::Blob{values})
            .bind(10, std::int64_t{static_cast<int>(change.base.kind)})
            .bind(11, i64(change.base.revision.epoch))
            .bind(12, i64(change.base.revision.seq))
            .bind(13, i64(change.base.own_seq))
            .bind(14, change.client_time.wall_ms)
            .bind(15, std::int64_t{change.client_time.logical})
            .bind(16, change.user)
            .bind(17, changelog::to_string(outcome.kind))
            .bind(18, outcome.reason)
            .bind(19, std::int64_t{outcome.is_new_revision ? 1 : 0})
            .bind(20, i64(conflict.epoch))
            .bind(21, i64(conflict.seq))
            .bind(22, i64(horizon.epoch))
            .bind(23, i64(horizon.seq))
            .bind(24, impl.clock->now_ms())
            .bind(25, storage::Blob{canonical})
            .bind(26, storage::Blob{crypto::as_bytes(hash)});
      }));
  s.last_seq = outcome.position.seq;
  s.head = hash;

  if (decision.kind != OutcomeKind::kAccepted || !decision.is_new_revision) return outcome;

  auto set_revision = [&](const std::string& entity, std::string_view grp) {
    return impl.run(
        "INSERT OR REPLACE INTO revisions (entity, grp, epoch, seq, device_id, device_seq) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [&](storage::Statement& st) {
          st.bind(1, entity)
              .bind(2, grp)
              .bind(3, i64(outcome.position.epoch))
              .bind(4, i64(outcome.position.seq))
              .bind(5, change.device_id.hex())
              .bind(6, i64(change.device_seq));
        });
  };

  if (decision.envelope) {
    if (gs->envelope) s.digest.toggle(envelope_entity(key), "amount", gs->envelope->plain());
    s.digest.toggle(envelope_entity(key), "amount", decision.envelope->plain());
    auto colon = key.find(':');
    ERGON_TRY(impl.run(
        "INSERT OR REPLACE INTO envelopes (key, year, source, amount) VALUES (?1, ?2, ?3, ?4)",
        [&](storage::Statement& st) {
          st.bind(1, key)
              .bind(2, std::int64_t{std::atoi(key.substr(0, colon).c_str())})
              .bind(3, key.substr(colon + 1))
              .bind(4, decision.envelope->cents());
        }));
    ERGON_TRY(set_revision(envelope_entity(key), "amount"));
    s.touched_years.insert(std::atoi(key.substr(0, colon).c_str()));
    return outcome;
  }

  const auto& merged = *decision.merged;
  auto after = model::all_values(merged);
  model::FieldValues before;
  if (gs->current) before = model::all_values(*gs->current);
  for (const auto& [field, value] : after) {
    auto old = before.find(field);
    if (old != before.end() && old->second == value) continue;
    if (old != before.end()) s.digest.toggle(key, field, old->second);
    s.digest.toggle(key, field, value);
  }
  auto blob = changelog::encode_values(after);
  ERGON_TRY(impl.run(
      "INSERT OR REPLACE INTO proposals (id, year, directorate, ka_code, state, vals) VALUES (?1, "
      "?2, ?3, ?4, ?5, ?6)",
      [&](storage::Statement& st) {
        st.bind(1, key)
            .bind(2, std::int64_t{merged.year})
            .bind(3, merged.directorate)
            .bind(4, merged.ka_code ? merged.ka_code->canonical() : std::string())
            .bind(5, model::to_string(merged.state))
            .bind(6, storage::Blob{blob});
      }));
  if (group == changelog::kCreateGroup)
    for (auto g : model::all_groups()) ERGON_TRY(set_revision(key, g));
  else
    ERGON_TRY(set_revision(key, group));
  s.touched_years.insert(merged.year);
  return outcome;
}

core::Status MasterStore::Batch::set_high_water_mark(const core::DeviceId& client_device_id,
                                                     std::uint64_t seq) {
  return state_->store->impl_->run(
      "UPDATE devices SET high_water = ?2 WHERE client_device_id = ?1",
      [&](storage::Statement& s) { s.bind(1, client_device_id.hex()).bind(2, i64(seq)); });
}

core::Status MasterStore::Batch::commit() {
  auto& impl = *state_->store->impl_;
  auto& s = *state_;
  for (int year : s.touched_years) {
    // Cross-row checks raise flags, they never reject (DESIGN.md): recomputed per touched year.
    std::map<std::string, std::string> raised;  // id → detail
    ERGON_TRY(impl.query(
        "SELECT ka_code, count(*) FROM proposals WHERE year = ?1 AND ka_code != '' AND state NOT "
        "IN ('withdrawn', 'rejected') GROUP BY ka_code HAVING count(*) > 1",
        [&](storage::Statement& st) { st.bind(1, std::int64_t{year}); },
        [&](storage::Statement& st) {
          raised["ka:" + st.column_text(0)] = "ΚΑ " + st.column_text(0) + " is used by " +
                                              std::to_string(st.column_int64(1)) +
                                              " live proposals of " + std::to_string(year);
        }));
    std::map<std::string, model::Money> envelopes, allocated;
    ERGON_TRY(impl.query(
        "SELECT source, amount FROM envelopes WHERE year = ?1",
        [&](storage::Statement& st) { st.bind(1, std::int64_t{year}); },
        [&](storage::Statement& st) {
          envelopes[st.column_text(0)] = model::Money::from_cents(st.column_int64(1));
        }));
    std::vector<std::string> included;
    ERGON_TRY(impl.query(
        "SELECT vals FROM proposals WHERE year = ?1 AND state = 'included'",
        [&](storage::Statement& st) { st.bind(1, std::int64_t{year}); },
        [&](storage::Statement& st) { included.push_back(st.column_blob(0)); }));
    for (const auto& blob : included) {
      auto values = changelog::decode_values(blob);
      if (!values) return fail(values.error());
      model::Proposal p;
      ERGON_TRY(model::apply_values(p, *values));
      for (const auto& line : p.funding)
        allocated[line.source] =
            allocated[line.source].plus(line.amount).value_or(allocated[line.source]);
    }
    for (const auto& [source, envelope] : envelopes)
      if (allocated[source] > envelope)
        raised["envelope:" + source] = "included allocations on " + source + " are " +
                                       allocated[source].greek_euro() + ", above the envelope of " +
                                       envelope.greek_euro();
    std::map<std::string, std::string> existing;  // id → status
    ERGON_TRY(impl.query(
        "SELECT id, status FROM flags WHERE year = ?1",
        [&](storage::Statement& st) { st.bind(1, std::int64_t{year}); },
        [&](storage::Statement& st) { existing[st.column_text(0)] = st.column_text(1); }));
    for (const auto& flag : raised) {  // named members, not a binding: clang 14 captures neither
      const auto& id = flag.first;
      const auto& detail = flag.second;
      auto it = existing.find(id);
      if (it != existing.end() && it->second != "cleared") {
        ERGON_TRY(impl.run("UPDATE flags SET detail = ?3 WHERE id = ?1 AND year = ?2",
                           [&](storage::Statement& st) {
                             st.bind(1, id).bind(2, std::int64_t{year}).bind(3, detail);
                           }));
        continue;
      }
      ERGON_TRY(impl.run(
          "INSERT OR REPLACE INTO flags (id, year, status, detail, raised_seq) VALUES "
          "(?1, ?2, 'open', ?3, ?4)",
          [&](storage::Statement& st) {
            st.bind(1, id).bind(2, std::int64_t{year}).bind(3, detail).bind(4, i64(s.last_seq));
          }));
    }
    for (const auto& flag : existing)
      if (!raised.contains(flag.first) && flag.second != "cleared")
        ERGON_TRY(impl.run(
            "UPDATE flags SET status = 'cleared' WHERE id = ?1 AND year = ?2",
            [&](storage::Statement& st) { st.bind(1, flag.first).bind(2, std::int64_t{year}); }));
  }
  ERGON_TRY(impl.set_meta("digest", s.digest.hex()));
  return s.tx->commit();
}

// --- reads ---

namespace {

// Reads log entries selected by `where` (with its parameters bound by `bind`).
template <class Bind>
core::Result<std::vector<changelog::LogEntry>> read_entries(MasterStore::Impl& impl,
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
                           bad = fail(change.error());
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

}  // namespace

core::Result<std::vector<changelog::LogEntry>> MasterStore::log_after(std::uint64_t cursor,
                                                                      std::size_t limit) {
  return read_entries(*impl_, "WHERE seq > ?1 ORDER BY seq LIMIT ?2", [&](storage::Statement& s) {
    s.bind(1, i64(cursor)).bind(2, static_cast<std::int64_t>(limit));
  });
}

core::Result<std::vector<changelog::LogEntry>> MasterStore::device_entries(
    const core::DeviceId& device, std::uint64_t first_seq) {
  return read_entries(
      *impl_, "WHERE device_id = ?1 AND device_seq >= ?2 ORDER BY seq",
      [&](storage::Statement& s) { s.bind(1, device.hex()).bind(2, i64(first_seq)); });
}

core::Result<std::uint64_t> MasterStore::last_seq() {
  std::uint64_t seq = 0;
  ERGON_TRY(impl_->query(
      "SELECT coalesce(max(seq), 0) FROM log", [](storage::Statement&) {},
      [&](storage::Statement& s) { seq = u64(s.column_int64(0)); }));
  return seq;
}

core::Result<changelog::StateDigest> MasterStore::digest() {
  auto hex = impl_->meta("digest");
  if (!hex) return fail(hex.error());
  auto value = parse_digest(*hex);
  if (!value) return fail(value.error());
  return changelog::StateDigest(*value);
}

core::Result<Snapshot> MasterStore::snapshot() {
  auto tx = impl_->db.begin_read();
  if (!tx) return fail(tx.error());
  return snapshot_in_read();
}

namespace {

core::Result<RevisionRow> revision_row(storage::Statement& s) {
  auto device = core::DeviceId::parse(s.column_text(4));
  if (!device) return fail(ErrorCode::kCorrupt, "a stored revision names a damaged device id");
  return RevisionRow{
      s.column_text(0),
      s.column_text(1),
      {{u64(s.column_int64(2)), u64(s.column_int64(3))}, *device, u64(s.column_int64(5))}};
}

}  // namespace

core::Result<Snapshot> MasterStore::snapshot_in_read(const std::string& after,
                                                     std::size_t max_bytes, bool* more) {
  Snapshot snap;
  ERGON_TRY(impl_->query(
      "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        snap.cursor = u64(s.column_int64(0));
        auto hash = s.column_blob(1);
        std::copy_n(hash.begin(), std::min<std::size_t>(hash.size(), 32), snap.chain_head.begin());
      }));
  auto digest_now = digest();
  if (!digest_now) return fail(digest_now.error());
  snap.digest = *digest_now;
  if (more) *more = false;
  std::vector<std::pair<std::string, std::string>> rows;  // id, values blob
  std::size_t bytes = 0;
  bool cut = false;
  ERGON_TRY(impl_->query(
      "SELECT id, vals FROM proposals WHERE id > ?1 ORDER BY id",
      [&](storage::Statement& s) { s.bind(1, after); },
      [&](storage::Statement& s) {
        if (cut) return;
        // At least one proposal a page, so a page always moves the bootstrap on.
        if (!rows.empty() && bytes > max_bytes) {
          cut = true;
          return;
        }
        rows.emplace_back(s.column_text(0), s.column_blob(1));
        bytes += rows.back().second.size();
      }));
  if (more) *more = cut;
  for (const auto& [id, blob] : rows) {
    auto values = changelog::decode_values(blob);
    if (!values) return fail(values.error());
    model::Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok)
      return fail(ErrorCode::kCorrupt, "stored proposal " + id + ": " + ok.error().message);
    snap.proposals.push_back(std::move(p));
  }
  core::Status bad;
  auto add_revision = [&](storage::Statement& s) {
    auto row = revision_row(s);
    if (!row)
      bad = fail(row.error());
    else
      snap.revisions.push_back(std::move(*row));
  };
  if (!rows.empty())
    ERGON_TRY(impl_->query(
        "SELECT entity, grp, epoch, seq, device_id, device_seq FROM revisions WHERE entity > ?1 "
        "AND entity <= ?2 AND length(entity) = 32",
        [&](storage::Statement& s) { s.bind(1, after).bind(2, rows.back().first); }, add_revision));
  ERGON_TRY(bad);
  if (!after.empty()) return snap;  // the rest came with the first part

  ERGON_TRY(impl_->query(
      "SELECT entity, grp, epoch, seq, device_id, device_seq FROM revisions WHERE length(entity) "
      "!= 32",
      [](storage::Statement&) {}, add_revision));
  ERGON_TRY(bad);
  ERGON_TRY(impl_->query(
      "SELECT key, amount FROM envelopes", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        snap.envelopes[s.column_text(0)] = model::Money::from_cents(s.column_int64(1));
      }));
  ERGON_TRY(impl_->query(
      "SELECT name, content FROM reference_files", [](storage::Statement&) {},
      [&](storage::Statement& s) { snap.reference_files[s.column_text(0)] = s.column_blob(1); }));
  auto parked = read_entries(
      *impl_,
      "WHERE outcome = 'conflict' AND EXISTS (SELECT 1 FROM conflicts c WHERE c.epoch = "
      "log.conflict_epoch AND c.seq = log.conflict_seq AND c.status = 'open') ORDER BY seq",
      [](storage::Statement&) {});
  if (!parked) return fail(parked.error());
  snap.parked = std::move(*parked);
  return snap;
}

core::Result<PullPage> MasterStore::read_page(const core::DeviceId& device,
                                              const PullQuery& query) {
  auto tx = impl_->db.begin_read();
  if (!tx) return fail(tx.error());
  PullPage page;
  std::uint64_t cursor = query.cursor;
  if (query.bootstrap && !query.snapshot_done) {
    auto snap = snapshot_in_read(query.snapshot_after, query.max_bytes, &page.snapshot_more);
    if (!snap) return fail(snap.error());
    if (query.snapshot_after.empty()) cursor = snap->cursor;  // the log replays from the first part
    if (page.snapshot_more) page.snapshot_next = snap->proposals.back().id.hex();
    page.snapshot = std::move(*snap);
  }
  if (query.bootstrap && !page.snapshot_more) {
    // The outcomes of the device's own changes the snapshot covers, in bounded pages too.
    auto own =
        read_entries(*impl_, "WHERE device_id = ?1 AND device_seq > ?2 ORDER BY seq LIMIT ?3",
                     [&](storage::Statement& s) {
                       s.bind(1, device.hex())
                           .bind(2, i64(std::min<std::uint64_t>(query.own_after, INT64_MAX)))
                           .bind(3, static_cast<std::int64_t>(query.limit + 1));
                     });
    if (!own) return fail(own.error());
    std::size_t bytes = 0;
    for (auto& e : *own) {
      if (page.own.size() == query.limit || (!page.own.empty() && bytes > query.max_bytes)) {
        page.own_more = true;
        break;
      }
      bytes += changelog::values_size(e.change);
      page.own.push_back(std::move(e));
    }
  }
  if (!page.snapshot_more && !page.own_more) {
    auto entries = log_after(cursor, query.limit);
    if (!entries) return fail(entries.error());
    page.entries = std::move(*entries);
  }
  ERGON_TRY(impl_->query(
      "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        page.head_seq = u64(s.column_int64(0));
        auto hash = s.column_blob(1);
        std::copy_n(hash.begin(), std::min<std::size_t>(hash.size(), 32), page.chain_head.begin());
      }));
  std::uint64_t reached = page.entries.empty() ? cursor : page.entries.back().outcome.position.seq;
  page.is_last_page = !page.snapshot_more && !page.own_more && reached >= page.head_seq;
  auto digest_now = digest();
  if (!digest_now) return fail(digest_now.error());
  page.digest = *digest_now;
  return page;
}

core::Result<std::vector<ConflictRecord>> MasterStore::conflicts() {
  std::vector<ConflictRecord> out;
  ERGON_TRY(impl_->query(
      "SELECT epoch, seq, entity, grp, status FROM conflicts ORDER BY epoch, seq",
      [](storage::Statement&) {},
      [&](storage::Statement& s) {
        out.push_back({{u64(s.column_int64(0)), u64(s.column_int64(1))},
                       s.column_text(2),
                       s.column_text(3),
                       s.column_text(4)});
      }));
  return out;
}

core::Result<std::vector<Flag>> MasterStore::flags() {
  std::vector<Flag> out;
  ERGON_TRY(impl_->query(
      "SELECT id, year, status, detail FROM flags ORDER BY year, id", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        out.push_back({s.column_text(0), static_cast<int>(s.column_int64(1)), s.column_text(2),
                       s.column_text(3)});
      }));
  return out;
}

core::Result<std::uint64_t> MasterStore::verify_chain() {
  crypto::Digest previous{};
  std::uint64_t rows = 0;
  core::Status broken;
  ERGON_TRY(impl_->query(
      "SELECT " + std::string(kOutcomeColumns) +
          ", change_id, canonical, hash FROM log ORDER BY seq",
      [](storage::Statement&) {},
      [&](storage::Statement& s) {
        if (!broken) return;
        auto outcome = outcome_from_row(s, 0);
        auto change = changelog::parse_canonical(s.column_blob(8));
        auto stored = s.column_blob(9);
        if (!change) {
          broken = fail(ErrorCode::kCorrupt, "log row " + std::to_string(outcome.position.seq) +
                                                 ": " + change.error().message);
          return;
        }
        auto expected = changelog::chain_hash(previous, *change, outcome);
        if (stored != crypto::as_bytes(expected)) {
          broken = fail(ErrorCode::kCorrupt, "log row " + std::to_string(outcome.position.seq) +
                                                 ": its hash does not match its contents and the "
                                                 "previous row's hash");
          return;
        }
        previous = expected;
        ++rows;
      }));
  ERGON_TRY(broken);
  return rows;
}

}  // namespace ergon::server

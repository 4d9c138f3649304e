#include "client/store/local_store.h"

#include <algorithm>
#include <cstdlib>

#include <unistd.h>

#include "shared/changelog/field_value_io.h"
#include "shared/model/text.h"
#include "shared/model/validate.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;
using model::FieldValues;
using model::Proposal;
using model::State;

constexpr std::string_view kDatabaseFile = "ergon.db";
constexpr std::string_view kReferenceFolder = "reference";

const std::vector<storage::Migration> kMigrations = {
    {1, R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The last synced server state of each proposal, and the revision of each of its groups.
CREATE TABLE server_proposals (id TEXT PRIMARY KEY, vals BLOB NOT NULL);
CREATE TABLE server_revisions (entity TEXT NOT NULL, grp TEXT NOT NULL, epoch INTEGER NOT NULL,
                               seq INTEGER NOT NULL, PRIMARY KEY (entity, grp));
-- The device's own changes; device_seq runs 1, 2, 3... without gaps.
CREATE TABLE outbox (
  device_seq INTEGER PRIMARY KEY, entity_kind INTEGER NOT NULL, entity TEXT NOT NULL,
  grp TEXT NOT NULL, vals BLOB NOT NULL, base_kind INTEGER NOT NULL, base_epoch INTEGER NOT NULL,
  base_seq INTEGER NOT NULL, base_own_seq INTEGER NOT NULL, hlc_wall INTEGER NOT NULL,
  hlc_logical INTEGER NOT NULL, user TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  reason TEXT NOT NULL DEFAULT '');
CREATE INDEX outbox_by_group ON outbox (entity, grp, status);
-- What the user sees: server state with the pending outbox applied.
CREATE TABLE proposals (
  id TEXT PRIMARY KEY, year INTEGER NOT NULL, directorate TEXT NOT NULL, ka_code TEXT NOT NULL,
  title_key TEXT NOT NULL, state TEXT NOT NULL, search_key TEXT NOT NULL, vals BLOB NOT NULL);
CREATE INDEX proposals_by_ka ON proposals (year, ka_code);
CREATE INDEX proposals_by_title ON proposals (year, directorate, title_key);
)sql"},
    {2, R"sql(
CREATE TABLE server_envelopes (key TEXT PRIMARY KEY, amount INTEGER NOT NULL);
-- Conflicts parked on the server, and the incoming changes parked in each.
CREATE TABLE conflicts (epoch INTEGER NOT NULL, seq INTEGER NOT NULL, entity TEXT NOT NULL,
                        grp TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
                        PRIMARY KEY (epoch, seq));
CREATE TABLE conflict_changes (change_id TEXT PRIMARY KEY, conflict_epoch INTEGER NOT NULL,
                               conflict_seq INTEGER NOT NULL, device_id TEXT NOT NULL,
                               user TEXT NOT NULL, hlc_wall INTEGER NOT NULL, vals BLOB NOT NULL);
)sql"},
    // Sync reads only the pending changes; the history of decided ones grows without bound.
    {3, R"sql(
CREATE INDEX outbox_by_status ON outbox (status, device_seq);
)sql"},
};

}  // namespace

namespace {

// The damage report: exit 5, the file left as it was, and what the user can do.
core::Error damaged(const std::filesystem::path& file, const std::string& what) {
  return {ErrorCode::kCorrupt,
          "the home's database is damaged (" + what + "); it was left exactly as it is. Restore " +
              file.string() +
              " from a backup of the home, or move it aside and run 'ergon init' for a new home "
              "(changes not yet synchronised are then lost: ask for help first)"};
}

// Opens the home's existing database, never re-initialising it; read-only when the home
// cannot be written (a copy on a CD, another user's folder), so reading commands still work.
core::Result<storage::Database> open_existing(const std::filesystem::path& file) {
  auto folder_writable =
      ::access(file.parent_path().c_str(), W_OK) == 0 && ::access(file.c_str(), W_OK) == 0;
  auto mode =
      folder_writable ? storage::Database::Mode::kExisting : storage::Database::Mode::kReadOnly;
  auto db = storage::Database::open(file, storage::Durability::kNormal, mode);
  if (!db && db.error().code == ErrorCode::kCorrupt) return fail(damaged(file, db.error().message));
  if (!db) return fail(db.error());
  if (mode == storage::Database::Mode::kExisting) ERGON_TRY(storage::migrate(*db, kMigrations));
  return db;
}

}  // namespace

struct LocalStore::Statements {
  storage::Statement get_meta, set_meta, view_get, view_put, outbox_insert, outbox_last_for_group,
      outbox_all, outbox_pending, server_revision, match_ka, match_title;
};

std::filesystem::path resolve_home(const std::string& from_flag) {
  if (!from_flag.empty()) return from_flag;
  if (const char* env = std::getenv("ERGON_HOME"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "ergon";
  const char* user_home = std::getenv("HOME");
  return std::filesystem::path(user_home ? user_home : ".") / ".local" / "share" / "ergon";
}

LocalStore::LocalStore(std::filesystem::path home, storage::Database db, const core::Clock& clock)
    : home_(std::move(home)), db_(std::move(db)), hlc_(clock) {}
LocalStore::LocalStore(LocalStore&&) noexcept = default;
LocalStore::~LocalStore() = default;

core::Result<LocalStore> LocalStore::open(const std::filesystem::path& home,
                                          const core::Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::exists(home / kDatabaseFile, ec))
    return fail(ErrorCode::kNotFound, "no Ergon home at " + home.string() +
                                          "; run 'ergon init --directorate CODE' first, or pass "
                                          "--home DIR / set ERGON_HOME");
  auto db = open_existing(home / kDatabaseFile);
  if (!db) return fail(db.error());

  LocalStore store(home, std::move(*db), clock);
  auto prepare = [&](std::string_view sql) { return store.db_.prepare(sql); };
  auto s = std::make_unique<Statements>();
  struct Item {
    storage::Statement* target;
    std::string_view sql;
  };
  // The store's SQL, in one place.
  const Item items[] = {
      {&s->get_meta, "SELECT value FROM meta WHERE key = ?1"},
      {&s->set_meta,
       "INSERT INTO meta (key, value) VALUES (?1, ?2) "
       "ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
      {&s->view_get, "SELECT vals FROM proposals WHERE id = ?1"},
      {&s->view_put,
       "INSERT OR REPLACE INTO proposals (id, year, directorate, ka_code, title_key, state, "
       "search_key, vals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&s->outbox_insert,
       "INSERT INTO outbox (device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, "
       "base_seq, base_own_seq, hlc_wall, hlc_logical, user) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
      {&s->outbox_last_for_group,
       "SELECT max(device_seq) FROM outbox WHERE entity = ?1 AND (grp = ?2 OR grp = 'create') "
       "AND status = 'pending'"},
      {&s->outbox_all,
       "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
       "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox ORDER BY device_seq"},
      {&s->outbox_pending,
       "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
       "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox "
       "WHERE status = 'pending' ORDER BY device_seq"},
      {&s->server_revision,
       "SELECT epoch, seq FROM server_revisions WHERE entity = ?1 AND grp = ?2"},
      {&s->match_ka, "SELECT id FROM proposals WHERE year = ?1 AND ka_code = ?2 LIMIT 2"},
      {&s->match_title,
       "SELECT id FROM proposals WHERE year = ?1 AND directorate = ?2 AND title_key = ?3 LIMIT 1"},
  };
  for (const auto& item : items) {
    auto stmt = prepare(item.sql);
    if (!stmt) return fail(stmt.error());
    *item.target = std::move(*stmt);
  }
  store.stmts_ = std::move(s);
  ERGON_TRY(store.load_settings());
  return store;
}

core::Result<LocalStore> LocalStore::init(const std::filesystem::path& home,
                                          const InitOptions& options, const core::Clock& clock) {
  std::error_code ec;
  std::filesystem::create_directories(home / kReferenceFolder, ec);
  if (ec)
    return fail(ErrorCode::kStorage,
                "cannot create the home " + home.string() + ": " + ec.message());
  // Reference lists travel with the home: the client validates offline against them.
  for (auto name : {"directorates.csv", "areas.csv", "funding-sources.csv", "years.csv"}) {
    auto source =
        options.reference_dir.empty() ? model::default_reference_dir() : options.reference_dir;
    auto from = source / name, to = home / kReferenceFolder / name;
    if (std::filesystem::exists(to, ec) && options.reference_dir.empty()) continue;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec)
      return fail(ErrorCode::kNotFound, "cannot copy reference file " + from.string() + ": " +
                                            ec.message() + "; pass --reference DIR");
  }
  auto reference = model::ReferenceData::load(home / kReferenceFolder);
  if (!reference) return fail(reference.error());
  if (!options.directorate.empty() && !reference->directorate(options.directorate))
    return fail(ErrorCode::kInvalidArgument,
                "directorate: '" + options.directorate +
                    "' is not a directorate code; see directorates.csv (e.g. DTE)");
  if (options.year && !reference->allowed_categories.contains(*options.year))
    return fail(ErrorCode::kInvalidArgument, "year: " + std::to_string(*options.year) +
                                                 " has no programme in the reference data");

  {
    // An existing home is opened as one, never re-created: damage stays visible.
    auto db = std::filesystem::exists(home / kDatabaseFile, ec)
                  ? open_existing(home / kDatabaseFile)
                  : storage::Database::open(home / kDatabaseFile, storage::Durability::kNormal);
    if (!db) return fail(db.error());
    ERGON_TRY(storage::migrate(*db, kMigrations));
    auto tx = db->begin_immediate();
    if (!tx) return fail(tx.error());
    auto put = db->prepare(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO "
        "UPDATE SET value = excluded.value");
    auto keep = db->prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)");
    if (!put || !keep) return fail(!put ? put.error() : keep.error());
    auto set = [](storage::Statement& stmt, std::string_view key, std::string_view value) {
      stmt.reset();
      return stmt.bind(1, key).bind(2, value).run();
    };
    // The device id is created once and never changes: offline edits are numbered under it.
    ERGON_TRY(set(*keep, "device_id", core::DeviceId::random().hex()));
    auto key = crypto::generate_signing_key().private_key;
    ERGON_TRY(set(*keep, "device_key",
                  core::to_hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())));
    ERGON_TRY(set(*keep, "next_seq", "1"));
    ERGON_TRY(set(*keep, "role", "directorate"));
    int default_year = reference->allowed_categories.empty()
                           ? 2024
                           : reference->allowed_categories.rbegin()->first;
    ERGON_TRY(set(*keep, "year", std::to_string(default_year)));
    ERGON_TRY(set(*keep, "directorate", ""));
    ERGON_TRY(set(*keep, "user", ""));
    if (!options.directorate.empty()) ERGON_TRY(set(*put, "directorate", options.directorate));
    if (!options.user.empty()) ERGON_TRY(set(*put, "user", options.user));
    if (options.year) ERGON_TRY(set(*put, "year", std::to_string(*options.year)));
    ERGON_TRY(tx->commit());
  }
  return open(home, clock);
}

core::Status LocalStore::load_settings() {
  auto text = [&](std::string_view key) -> core::Result<std::string> { return meta(key); };
  auto device = text("device_id");
  if (!device && device.error().code == ErrorCode::kNotFound)
    return fail(damaged(home_ / kDatabaseFile, "it has no device id"));
  if (!device) return fail(device.error());
  auto id = core::DeviceId::parse(*device);
  if (!id)
    return fail(ErrorCode::kCorrupt, "the home's device id is damaged: " + id.error().message);
  device_.device_id = *id;
  device_.directorate = text("directorate").value_or("");
  device_.user = text("user").value_or("");
  device_.role = text("role").value_or("directorate");
  device_.year = std::atoi(text("year").value_or("0").c_str());
  auto hlc_wall = text("hlc_wall"), hlc_logical = text("hlc_logical");
  if (hlc_wall && hlc_logical)
    hlc_.observe(core::Hlc{std::atoll(hlc_wall->c_str()),
                           static_cast<std::uint32_t>(std::atoll(hlc_logical->c_str()))});
  auto reference = model::ReferenceData::load(home_ / kReferenceFolder);
  if (!reference) return fail(reference.error());
  reference_ = std::move(*reference);
  return {};
}

core::Result<std::string> LocalStore::meta(std::string_view key) {
  auto& stmt = stmts_->get_meta;
  stmt.reset();
  stmt.bind(1, key);
  auto row = stmt.step();
  if (!row) return fail(row.error());
  if (*row == storage::StepResult::kDone)
    return fail(ErrorCode::kNotFound, "setting " + std::string(key) + " is not set");
  auto value = stmt.column_text(0);
  stmt.reset();
  return value;
}

core::Status LocalStore::set_meta(std::string_view key, std::string_view value) {
  auto& stmt = stmts_->set_meta;
  stmt.reset();
  return stmt.bind(1, key).bind(2, value).run();
}

core::Result<crypto::SigningKey> LocalStore::device_key() {
  auto stored = meta("device_key");
  if (!stored && stored.error().code != ErrorCode::kNotFound) return fail(stored.error());
  if (!stored) {
    auto made = crypto::generate_signing_key();
    ERGON_TRY(set_meta("device_key",
                       core::to_hex(reinterpret_cast<const std::uint8_t*>(made.private_key.data()),
                                    made.private_key.size())));
    return made;
  }
  auto first = core::parse_hex16(stored->substr(0, 32));
  auto second = core::parse_hex16(stored->size() == 64 ? stored->substr(32) : std::string());
  std::optional<crypto::SigningKey> key;
  if (first && second) {
    std::string raw(first->begin(), first->end());
    raw.append(second->begin(), second->end());
    key = crypto::signing_key_from_private(raw);
  }
  if (!key)
    return fail(ErrorCode::kCorrupt,
                "the home's device key is damaged; the server will not accept this client until "
                "it is re-enrolled with a new home (ergon init --home NEW …)");
  return *key;
}

std::optional<std::int64_t> LocalStore::last_sync_ms() {
  auto value = meta("last_sync_ms");
  if (!value) return std::nullopt;
  return std::atoll(value->c_str());
}

std::string LocalStore::last_sync_error() { return meta("last_sync_error").value_or(""); }

core::Result<core::ProposalId> LocalStore::resolve_id(std::string_view text) {
  std::string prefix(model::trim(text));
  for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!core::is_hex_prefix(prefix) || prefix.size() < 8)
    return fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text) +
                    "' is not a proposal id: give the id or its first 8 or more hex digits "
                    "(see 'ergon list')");
  auto stmt =
      db_.prepare("SELECT id FROM proposals WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6");
  if (!stmt) return fail(stmt.error());
  std::string upper = prefix;
  upper.push_back('g');  // 'g' sorts after every hex digit
  stmt->bind(1, prefix).bind(2, upper);
  std::vector<std::string> found;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (*row == storage::StepResult::kDone) break;
    found.push_back(stmt->column_text(0));
  }
  if (found.empty())
    return fail(ErrorCode::kNotFound, "no proposal has an id starting with " + prefix);
  if (found.size() > 1) {
    std::string list;
    for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
    return fail(ErrorCode::kAmbiguous, "the id prefix " + prefix + " matches several proposals (" +
                                           list + "); give more digits");
  }
  return core::ProposalId::parse(found.front());
}

core::Result<Proposal> LocalStore::get(const core::ProposalId& id) {
  auto& stmt = stmts_->view_get;
  stmt.reset();
  stmt.bind(1, id.hex());
  auto row = stmt.step();
  if (!row) return fail(row.error());
  if (*row == storage::StepResult::kDone)
    return fail(ErrorCode::kNotFound, "no proposal " + id.hex());
  auto values = changelog::decode_values(stmt.column_blob(0));
  stmt.reset();
  if (!values) return fail(values.error());
  Proposal p;
  if (auto ok = model::apply_values(p, *values); !ok)
    return fail(ErrorCode::kCorrupt,
                "stored proposal " + id.hex() + " is damaged: " + ok.error().message);
  return p;
}

core::Result<std::vector<Proposal>> LocalStore::list(const ListFilter& filter) {
  std::string sql = "SELECT vals FROM proposals WHERE 1";
  std::vector<std::string> params;
  auto add = [&](const std::string& clause, std::string value) {
    params.push_back(std::move(value));
    sql += " AND " + clause + std::to_string(params.size());
  };
  if (!filter.directorate.empty()) add("directorate = ?", filter.directorate);
  if (filter.state) add("state = ?", std::string(model::to_string(*filter.state)));
  if (filter.year) add("year = ?", std::to_string(*filter.year));
  // Every folded word must appear in the folded title or remarks.
  std::string words = model::fold_for_search(filter.search);
  std::size_t start = 0;
  while (start < words.size()) {
    auto end = words.find(' ', start);
    if (end == std::string::npos) end = words.size();
    if (end > start) add("instr(search_key, ?", words.substr(start, end - start)), sql += ") > 0";
    start = end + 1;
  }
  sql += " ORDER BY directorate, ka_code, title_key";
  auto stmt = db_.prepare(sql);
  if (!stmt) return fail(stmt.error());
  for (std::size_t i = 0; i < params.size(); ++i)
    stmt->bind(static_cast<int>(i + 1), std::string_view(params[i]));
  std::vector<Proposal> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (*row == storage::StepResult::kDone) break;
    auto values = changelog::decode_values(stmt->column_blob(0));
    if (!values) return fail(values.error());
    Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok)
      return fail(ErrorCode::kCorrupt, ok.error().message);
    out.push_back(std::move(p));
  }
  return out;
}

core::Status LocalStore::write_view(const Proposal& p) {
  auto& stmt = stmts_->view_put;
  stmt.reset();
  auto values = changelog::encode_values(model::all_values(p));
  std::string search = model::fold_for_search(p.title + " " + p.remarks);
  stmt.bind(1, p.id.hex())
      .bind(2, std::int64_t{p.year})
      .bind(3, p.directorate)
      .bind(4, p.ka_code ? std::string_view(p.ka_code->canonical()) : std::string_view())
      .bind(5, model::fold_for_search(p.title))
      .bind(6, model::to_string(p.state))
      .bind(7, search)
      .bind(8, storage::Blob{values});
  return stmt.run();
}

core::Result<changelog::Base> LocalStore::base_for(const std::string& entity,
                                                   std::string_view group) {
  changelog::Base base;
  auto& own = stmts_->outbox_last_for_group;
  own.reset();
  own.bind(1, entity).bind(2, group);
  auto row = own.step();
  if (!row) return fail(row.error());
  if (*row == storage::StepResult::kRow && !own.column_is_null(0)) {
    base.kind = changelog::Base::Kind::kOwnChange;
    base.own_seq = static_cast<std::uint64_t>(own.column_int64(0));
    own.reset();
    return base;
  }
  own.reset();
  auto& rev = stmts_->server_revision;
  rev.reset();
  rev.bind(1, entity).bind(2, group);
  row = rev.step();
  if (!row) return fail(row.error());
  if (*row == storage::StepResult::kRow) {
    base.kind = changelog::Base::Kind::kRevision;
    base.revision = {static_cast<std::uint64_t>(rev.column_int64(0)),
                     static_cast<std::uint64_t>(rev.column_int64(1))};
  }
  rev.reset();
  return base;
}

core::Result<std::uint64_t> LocalStore::queue_change(const std::string& entity,
                                                     const std::string& group,
                                                     const FieldValues& values,
                                                     changelog::Base base) {
  auto next = meta("next_seq");
  if (!next) return fail(next.error());
  auto seq = static_cast<std::uint64_t>(std::atoll(next->c_str()));
  // Another process on this home may have stamped changes since we opened it: read its clock
  // inside this transaction, so times keep increasing across processes.
  auto wall = meta("hlc_wall");
  auto logical = meta("hlc_logical");
  if (wall && logical)
    hlc_.observe(core::Hlc{std::atoll(wall->c_str()),
                           static_cast<std::uint32_t>(std::atoll(logical->c_str()))});
  auto time = hlc_.now();
  auto encoded = changelog::encode_values(values);
  auto& stmt = stmts_->outbox_insert;
  stmt.reset();
  stmt.bind(1, static_cast<std::int64_t>(seq))
      .bind(2, std::int64_t{static_cast<int>(changelog::EntityKind::kProposal)})
      .bind(3, entity)
      .bind(4, group)
      .bind(5, storage::Blob{encoded})
      .bind(6, std::int64_t{static_cast<int>(base.kind)})
      .bind(7, static_cast<std::int64_t>(base.revision.epoch))
      .bind(8, static_cast<std::int64_t>(base.revision.seq))
      .bind(9, static_cast<std::int64_t>(base.own_seq))
      .bind(10, time.wall_ms)
      .bind(11, std::int64_t{time.logical})
      .bind(12, device_.user);
  ERGON_TRY(stmt.run());
  ERGON_TRY(set_meta("next_seq", std::to_string(seq + 1)));
  ERGON_TRY(set_meta("hlc_wall", std::to_string(time.wall_ms)));
  ERGON_TRY(set_meta("hlc_logical", std::to_string(time.logical)));
  return seq;
}

core::Result<std::vector<OutboxEntry>> LocalStore::outbox(bool pending_only) {
  auto& stmt = pending_only ? stmts_->outbox_pending : stmts_->outbox_all;
  stmt.reset();
  std::vector<OutboxEntry> out;
  for (;;) {
    auto row = stmt.step();
    if (!row) return fail(row.error());
    if (*row == storage::StepResult::kDone) break;
    OutboxEntry e;
    auto& c = e.change;
    c.device_id = device_.device_id;
    c.device_seq = static_cast<std::uint64_t>(stmt.column_int64(0));
    c.entity.kind = static_cast<changelog::EntityKind>(stmt.column_int64(1));
    c.entity.key = stmt.column_text(2);
    c.group = stmt.column_text(3);
    auto values = changelog::decode_values(stmt.column_blob(4));
    if (!values) return fail(values.error());
    c.values = std::move(*values);
    c.base.kind = static_cast<changelog::Base::Kind>(stmt.column_int64(5));
    c.base.revision = {static_cast<std::uint64_t>(stmt.column_int64(6)),
                       static_cast<std::uint64_t>(stmt.column_int64(7))};
    c.base.own_seq = static_cast<std::uint64_t>(stmt.column_int64(8));
    c.client_time = {stmt.column_int64(9), static_cast<std::uint32_t>(stmt.column_int64(10))};
    c.user = stmt.column_text(11);
    e.status = stmt.column_text(12);
    e.reason = stmt.column_text(13);
    out.push_back(std::move(e));
  }
  stmt.reset();
  return out;
}

core::Result<std::optional<core::ProposalId>> LocalStore::match(int year,
                                                                const std::string& ka_code,
                                                                const std::string& directorate,
                                                                const std::string& title) {
  auto collect = [](storage::Statement& stmt) -> core::Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    for (;;) {
      auto row = stmt.step();
      if (!row) return fail(row.error());
      if (*row == storage::StepResult::kDone) break;
      ids.push_back(stmt.column_text(0));
    }
    stmt.reset();
    return ids;
  };
  if (!ka_code.empty()) {
    auto& stmt = stmts_->match_ka;
    stmt.reset();
    stmt.bind(1, std::int64_t{year}).bind(2, ka_code);
    auto ids = collect(stmt);
    if (!ids) return fail(ids.error());
    if (ids->size() == 1) return core::ProposalId::parse(ids->front()).value();
  }
  auto& stmt = stmts_->match_title;
  stmt.reset();
  stmt.bind(1, std::int64_t{year}).bind(2, directorate).bind(3, model::fold_for_search(title));
  auto ids = collect(stmt);
  if (!ids) return fail(ids.error());
  if (ids->empty()) return std::optional<core::ProposalId>{};
  return core::ProposalId::parse(ids->front()).value();
}

core::Result<Proposal> LocalStore::create(const FieldValues& values, std::optional<int> year) {
  core::Result<Proposal> result = fail(ErrorCode::kInternal, "not run");
  auto ok = in_transaction([&]() -> core::Status {
    result = create_in_tx(values, year);
    if (!result) return fail(result.error());
    return {};
  });
  if (!ok) return fail(ok.error());
  return result;
}

core::Result<Proposal> LocalStore::create_in_tx(const FieldValues& values, std::optional<int> year,
                                                std::optional<core::ProposalId> id) {
  FieldValues given = values;
  if (!given.contains("directorate") || model::trim(given["directorate"]).empty())
    given["directorate"] = device_.directorate;
  auto missing = model::check_required(given);
  if (!missing.empty()) {
    std::string message;
    for (const auto& e : missing) message += (message.empty() ? "" : "; ") + e.message;
    return fail(ErrorCode::kInvalidArgument, message);
  }
  Proposal p;
  p.id = id.value_or(core::ProposalId::random());
  p.year = year.value_or(device_.year);
  p.state = State::kDraft;
  ERGON_TRY(model::apply_values(p, given));
  ERGON_TRY(model::validate_proposal(p, reference_));
  auto seq = queue_change(p.id.hex(), std::string(changelog::kCreateGroup), model::all_values(p),
                          changelog::Base{});
  if (!seq) return fail(seq.error());
  ERGON_TRY(write_view(p));
  return p;
}

core::Status LocalStore::check_editable(const Proposal& current, std::string_view group) {
  if (device_.role != "directorate") return {};  // the server enforces other roles' limits
  if (current.state == State::kWithdrawn)
    return fail(ErrorCode::kPermissionDenied,
                "proposal " + current.id.hex().substr(0, 8) +
                    " is withdrawn; a withdrawn proposal is kept but no longer edited");
  if (model::is_decided(current.state))
    return fail(ErrorCode::kPermissionDenied,
                "proposal " + current.id.hex().substr(0, 8) + " is " +
                    std::string(model::to_string(current.state)) +
                    "; after planning's decision only planning and budget change it");
  if (group == model::kClassificationGroup && current.state != State::kDraft)
    return fail(ErrorCode::kPermissionDenied,
                "category and ka_code can be changed by a directorate only while the proposal is "
                "a draft; this one is " +
                    std::string(model::to_string(current.state)));
  return {};
}

core::Result<EditResult> LocalStore::edit(const core::ProposalId& id, const FieldValues& values) {
  core::Result<EditResult> result = fail(ErrorCode::kInternal, "not run");
  auto ok = in_transaction([&]() -> core::Status {
    result = edit_in_tx(id, values);
    if (!result) return fail(result.error());
    return {};
  });
  if (!ok) return fail(ok.error());
  return result;
}

core::Result<EditResult> LocalStore::edit_in_tx(const core::ProposalId& id,
                                                const FieldValues& values, bool user_fields_only) {
  auto current = get(id);
  if (!current) return fail(current.error());
  for (const auto& [name, text] : values) {
    const auto* spec = model::find_field(name);
    if (!spec)
      return fail(model::set_field(*current, name, text).error());  // names the valid fields
    if (user_fields_only && !spec->is_user_settable)
      return fail(ErrorCode::kUsage,
                  "'" + name + "' cannot be set with FIELD=VALUE; " +
                      (name == "state" ? "use 'ergon submit' or 'ergon withdraw'"
                                       : "it is fixed when the proposal is created"));
  }
  Proposal next = *current;
  ERGON_TRY(model::apply_values(next, values));
  next.id = current->id;  // import rows may carry the id: it never changes
  next.year = current->year;
  ERGON_TRY(model::validate_proposal(next, reference_));

  EditResult result{next, {}};
  for (auto group : model::all_groups()) {
    auto after = model::group_values(next, group);
    if (model::group_values(*current, group) == after) continue;
    ERGON_TRY(check_editable(*current, group));
    auto base = base_for(id.hex(), group);
    if (!base) return fail(base.error());
    auto seq = queue_change(id.hex(), std::string(group), after, *base);
    if (!seq) return fail(seq.error());
    result.queued_seqs.push_back(*seq);
  }
  if (!result.queued_seqs.empty()) ERGON_TRY(write_view(next));
  return result;
}

core::Result<EditResult> LocalStore::change_state(const core::ProposalId& id, State to) {
  core::Result<EditResult> result = fail(ErrorCode::kInternal, "not run");
  auto ok = in_transaction([&]() -> core::Status {
    auto current = get(id);
    if (!current) return fail(current.error());
    auto short_id = id.hex().substr(0, 8);
    auto now = std::string(model::to_string(current->state));
    if (to == State::kSubmitted && current->state != State::kDraft)
      return fail(ErrorCode::kInvalidArgument,
                  "proposal " + short_id + " is " + now + "; only a draft can be submitted");
    if (to == State::kWithdrawn &&
        (current->state == State::kWithdrawn || model::is_decided(current->state)))
      return fail(ErrorCode::kInvalidArgument, "proposal " + short_id + " is " + now +
                                                   "; only a draft or submitted proposal can be "
                                                   "withdrawn");
    result = edit_in_tx(id, {{"state", std::string(model::to_string(to))}, {"decision_reason", ""}},
                        false);
    if (!result) return fail(result.error());
    return {};
  });
  if (!ok) return fail(ok.error());
  return result;
}

core::Result<EditResult> LocalStore::submit(const core::ProposalId& id) {
  return change_state(id, State::kSubmitted);
}
core::Result<EditResult> LocalStore::withdraw(const core::ProposalId& id) {
  return change_state(id, State::kWithdrawn);
}

}  // namespace ergon::client

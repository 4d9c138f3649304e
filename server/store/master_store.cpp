// The store's life (create, open) and its small reads: conflicts and flags.

#include "server/store/master_store.h"

#include "server/store/schema.h"
#include "server/store/store_connection.h"
#include "shared/core/numbers.h"
#include "shared/model/text.h"

namespace ergon::server {

using changelog::envelope_entity;
using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

namespace {

// A schema upgrade takes a backup first: the database as it was, copied whole (VACUUM INTO)
// beside it as ergond.db.before-schema-N-TIME, before any step runs. The key and certificate
// are not touched by an upgrade.
core::Status copy_before_upgrade(storage::Database& db, const std::filesystem::path& dir,
                                 const core::Clock& clock) {
  auto version = storage::schema_version(db);
  if (!version) return fail(version.error());
  const auto& steps = master_migrations();
  if (*version == 0 || *version >= steps.back().version) return {};
  auto copy =
      dir / (std::string(MasterStore::kDatabaseFile) + ".before-schema-" +
             std::to_string(steps.back().version) + "-" + std::to_string(clock.now_ms() / 1000));
  auto copied = db.copy_to(copy);
  if (!copied)
    return fail(ErrorCode::kStorage,
                "the schema upgrade stopped before it began: the copy of "
                "the store it takes first failed (" +
                    copied.error().message + ")");
  return {};
}

}  // namespace

MasterStore::MasterStore(std::unique_ptr<StoreConnection> connection)
    : impl_(std::move(connection)) {}
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
  // A folder made here is the server's alone (0700); one the administrator made keeps its mode.
  bool is_new = !std::filesystem::exists(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (!ec && is_new)
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
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
    StoreConnection impl(std::move(*db), &clock);
    auto tx = impl.db.begin_immediate();
    if (!tx) return fail(tx.error());
    ERGON_TRY(impl.set_meta("server_id", crypto::random_hex(16)));
    ERGON_TRY(impl.set_meta("epoch", "1"));
    ERGON_TRY(impl.set_meta("year", std::to_string(programme_year)));
    ERGON_TRY(impl.set_meta("stage", "proposals"));
    ERGON_TRY(impl.set_meta("amendment_open", "0"));
    ERGON_TRY(impl.run(
        "INSERT INTO years (year, stage, amendment_open, opened_ms) VALUES (?1, "
        "'proposals', 0, ?2)",
        [&](storage::Statement& s) { s.bind(1, programme_year).bind(2, clock.now_ms()); }));
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
  ERGON_TRY(copy_before_upgrade(*db, dir, clock));
  ERGON_TRY(storage::migrate(*db, master_migrations()));
  // SQLite's default page cache (2 MiB) spills a push batch's dirty pages into the WAL before
  // it commits and re-reads the index pages the batch just wrote (bench/RESULTS.md, #13): the
  // server's two connections take up to 32 MiB each, as the store grows.
  ERGON_TRY(db->exec("PRAGMA cache_size = -32768"));
  MasterStore store(std::make_unique<StoreConnection>(std::move(*db), &clock));
  auto& impl = *store.impl_;
  auto server_id = impl.meta("server_id");
  auto epoch = impl.meta("epoch");
  auto year = impl.meta("year");
  for (const auto* r : {&server_id, &epoch, &year})
    if (!*r) return fail(r->error());
  auto epoch_number = core::parse_number<std::uint64_t>(*epoch, "the store's epoch");
  auto year_number = core::parse_number<int>(*year, "the store's programme year");
  if (!epoch_number) return fail(ErrorCode::kCorrupt, epoch_number.error().message);
  if (!year_number) return fail(ErrorCode::kCorrupt, year_number.error().message);
  store.info_.server_id = *server_id;
  store.info_.epoch = *epoch_number;
  store.info_.year = *year_number;

  std::map<std::string, std::string> files;
  ERGON_TRY(impl.query(
      "SELECT name, content FROM reference_files", [](storage::Statement&) {},
      [&](storage::Statement& s) { files[s.column_text(0)] = s.column_blob(1); }));
  auto reference = model::ReferenceData::from_files(files);
  if (!reference) return fail(reference.error());
  store.reference_ = std::move(*reference);
  return store;
}

core::Result<std::vector<ConflictRecord>> MasterStore::conflicts() {
  std::vector<ConflictRecord> out;
  ERGON_TRY(impl_->query(
      "SELECT epoch, seq, entity, grp, status FROM conflicts ORDER BY epoch, seq",
      [](storage::Statement&) {},
      [&](storage::Statement& s) {
        out.push_back({{s.column_uint64(0), s.column_uint64(1)},
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

core::Result<std::string> MasterStore::municipality() {
  std::string name;
  ERGON_TRY(impl_->query(
      "SELECT value FROM meta WHERE key = 'municipality'", [](storage::Statement&) {},
      [&](storage::Statement& s) { name = s.column_text(0); }));
  return name;
}

core::Status MasterStore::set_municipality(const std::string& name) {
  auto text = model::normalise_text(name);
  if (!text) return fail(ErrorCode::kInvalidArgument, "--municipality: " + text.error().message);
  auto length = model::count_characters(*text);
  if (length == 0 || length > 120)
    return fail(ErrorCode::kInvalidArgument,
                "--municipality: give the municipality's name, 1 to 120 characters, e.g. 'Δήμος "
                "Ηρακλείου'");
  return impl_->set_meta("municipality", *text);
}

}  // namespace ergon::server

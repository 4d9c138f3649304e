#include "shared/storage/database.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ergon::storage {
namespace {

using core::ErrorCode;
using core::fail;

core::Error error_from(sqlite3* db, int rc, std::string_view context) {
  std::string message =
      std::string(context) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {ErrorCode::kUnavailable, message + " (another process holds the database; retry)"};
    case SQLITE_CONSTRAINT:
      return {ErrorCode::kInvalidArgument, message};
    case SQLITE_FULL:
      return {ErrorCode::kStorage, message + " (the disk is full; free space and retry)"};
    case SQLITE_READONLY:
      return {ErrorCode::kStorage, message + " (the database is read-only; check permissions)"};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return {ErrorCode::kCorrupt, message + " (the database file is damaged)"};
    default:
      return {ErrorCode::kStorage, message};
  }
}

}  // namespace

void Statement::Finalize::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
void Database::Close::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  // An empty view may have no data pointer; SQLite would store NULL for it, not ''.
  note_bind(sqlite3_bind_text64(stmt_.get(), index, text.data() ? text.data() : "", text.size(),
                                SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}
Statement& Statement::bind(int index, Blob blob) {
  note_bind(sqlite3_bind_blob64(stmt_.get(), index, blob.bytes.data() ? blob.bytes.data() : "",
                                blob.bytes.size(), SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::bind(int index, Null) {
  note_bind(sqlite3_bind_null(stmt_.get(), index));
  return *this;
}
Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind(index, Null{});
}

core::Result<StepResult> Statement::step() {
  if (bind_error_ != 0) {
    int rc = bind_error_;
    bind_error_ = 0;
    return fail(error_from(db_, rc, "binding a parameter"));
  }
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return StepResult::kRow;
  if (rc == SQLITE_DONE) return StepResult::kDone;
  auto error = error_from(db_, rc, "running SQL");
  sqlite3_reset(stmt_.get());
  return fail(std::move(error));
}

core::Status Statement::run() {
  for (;;) {
    auto r = step();
    if (!r) return fail(r.error());
    if (*r == StepResult::kDone) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_error_ = 0;
}

std::int64_t Statement::column_int64(int index) const {
  return sqlite3_column_int64(stmt_.get(), index);
}
std::string Statement::column_text(int index) const {
  auto* text = sqlite3_column_text(stmt_.get(), index);
  int n = sqlite3_column_bytes(stmt_.get(), index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n)) : "";
}
std::string Statement::column_blob(int index) const {
  auto* data = sqlite3_column_blob(stmt_.get(), index);
  int n = sqlite3_column_bytes(stmt_.get(), index);
  return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(n)) : "";
}
ColumnType Statement::column_type(int index) const {
  switch (sqlite3_column_type(stmt_.get(), index)) {
    case SQLITE_INTEGER:
      return ColumnType::kInteger;
    case SQLITE_FLOAT:
      return ColumnType::kFloat;
    case SQLITE_TEXT:
      return ColumnType::kText;
    case SQLITE_BLOB:
      return ColumnType::kBlob;
    default:
      return ColumnType::kNull;
  }
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

namespace {

// The stores hold tokens, device keys and every directorate's figures: their owner alone reads
// them. A new file is made 0600 before SQLite opens it (its -wal and -shm files take the
// database's mode); an older file readable by others is narrowed when opened for writing. An
// existing file is never opened here: closing any descriptor of a file drops every POSIX lock
// this process holds on it, the locks of its other SQLite connections included.
core::Status keep_private(const std::filesystem::path& path, Database::Mode mode) {
  if (mode == Database::Mode::kReadOnly) return {};
  if (mode == Database::Mode::kCreate) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
      ::close(fd);  // new and empty: no connection can hold a lock on it yet
    else if (errno != EEXIST)
      return fail(ErrorCode::kStorage, "opening " + path.string() + ": " + std::strerror(errno) +
                                           " (check that the folder exists and is writable)");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    auto file = path.string() + suffix;
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      (void)::chmod(file.c_str(), 0600);
  }
  return {};
}

core::Result<int> user_version(Database& db) {
  auto stmt = db.prepare("PRAGMA user_version");
  if (!stmt) return fail(stmt.error());
  auto row = stmt->step();
  if (!row) return fail(row.error());
  return static_cast<int>(stmt->column_int64(0));
}

}  // namespace

core::Result<Database> Database::open(const std::filesystem::path& path, Durability durability,
                                      Mode mode) {
  std::error_code ec;
  if (mode != Mode::kCreate && std::filesystem::file_size(path, ec) == 0 && !ec)
    return fail(ErrorCode::kCorrupt, path.string() + " is empty: the file was truncated");
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  flags |= mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (mode == Mode::kCreate) flags |= SQLITE_OPEN_CREATE;
  ERGON_TRY(keep_private(path, mode));
  // A folder nobody may write holds no -shm file to share: read the file as it stands.
  std::string name =
      mode == Mode::kReadOnly ? "file:" + path.string() + "?immutable=1" : "file:" + path.string();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Database db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return fail(error_from(raw, rc, "opening " + path.string()));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  if (mode != Mode::kCreate) {
    // Read before any pragma can write: a file that is not an Ergon database stays untouched.
    auto version = user_version(db);
    if (!version)
      return fail(version.error().code,
                  "opening " + path.string() + ": " + version.error().message);
    if (*version == 0)
      return fail(ErrorCode::kCorrupt, path.string() + " holds no Ergon schema (version 0)");
  }
  if (mode == Mode::kReadOnly) return db;
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=";
  pragmas += durability == Durability::kFull ? "FULL;" : "NORMAL;";
  if (auto ok = db.exec(pragmas); !ok)
    return fail(ok.error().code, "opening " + path.string() + ": " + ok.error().message);
  return db;
}

core::Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return fail(error_from(db_.get(), rc, "preparing SQL"));
  }
  return Statement(db_.get(), stmt);
}

core::Status Database::exec(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  auto error = error_from(db_.get(), rc, "running SQL");
  if (message) sqlite3_free(message);
  return fail(std::move(error));
}

// Savepoints of one name nest: RELEASE and ROLLBACK TO act on the innermost of that name.
core::Result<Transaction> Database::begin_immediate() {
  bool nested = in_transaction();
  ERGON_TRY(exec(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE"));
  return Transaction(this, nested);
}

core::Result<Transaction> Database::begin_read() {
  bool nested = in_transaction();
  ERGON_TRY(exec(nested ? "SAVEPOINT nested" : "BEGIN"));
  return Transaction(this, nested);
}

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

std::int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_.get()); }
int Database::changes() const { return sqlite3_changes(db_.get()); }

core::Status Database::copy_to(const std::filesystem::path& file) {
  auto stmt = prepare("VACUUM INTO ?1");
  if (!stmt) return fail(stmt.error());
  return stmt->bind(1, file.string()).run();
}

std::filesystem::path Database::path() const {
  const char* name = sqlite3_db_filename(db_.get(), "main");
  return name ? std::filesystem::path(name) : std::filesystem::path();
}

Transaction::~Transaction() {
  if (!db_) return;
  // A savepoint rolled back stays open until released. If SQLite already rolled the outer
  // transaction back, both fail harmlessly.
  (void)db_->exec(nested_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
}

core::Status Transaction::commit() {
  if (!db_) return fail(ErrorCode::kInternal, "commit of a finished transaction");
  auto ok = db_->exec(nested_ ? "RELEASE nested" : "COMMIT");
  if (ok) db_ = nullptr;
  return ok;
}

core::Result<Statement*> StatementCache::get(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto prepared = db_->prepare(sql);
    if (!prepared) return fail(prepared.error());
    it = statements_.emplace(std::string(sql), std::move(*prepared)).first;
  }
  it->second.reset();
  return &it->second;
}

core::Result<int> schema_version(Database& db) {
  auto stmt = db.prepare("PRAGMA user_version");
  if (!stmt) return fail(stmt.error());
  auto row = stmt->step();
  if (!row) return fail(row.error());
  return static_cast<int>(stmt->column_int64(0));
}

core::Status migrate(Database& db, const std::vector<Migration>& steps) {
  auto version_stmt = db.prepare("PRAGMA user_version");
  if (!version_stmt) return fail(version_stmt.error());
  auto row = version_stmt->step();
  if (!row) return fail(row.error());
  int current = static_cast<int>(version_stmt->column_int64(0));
  version_stmt->reset();
  int newest = steps.empty() ? 0 : steps.back().version;
  if (current > newest)
    return fail(ErrorCode::kVersionMismatch,
                "the database has schema version " + std::to_string(current) +
                    " but this program knows up to " + std::to_string(newest) +
                    "; use a newer version of Ergon");
  for (const auto& step : steps) {
    if (step.version <= current) continue;
    auto tx = db.begin_immediate();
    if (!tx) return fail(tx.error());
    // Another process may have migrated while we waited for the write lock: read again.
    auto again = version_stmt->step();
    if (!again) return fail(again.error());
    current = static_cast<int>(version_stmt->column_int64(0));
    version_stmt->reset();
    if (step.version <= current) continue;
    ERGON_TRY(db.exec(step.sql));
    ERGON_TRY(db.exec("PRAGMA user_version = " + std::to_string(step.version)));
    ERGON_TRY(tx->commit());
    current = step.version;
  }
  return {};
}

}  // namespace ergon::storage

#pragma once
// The RAII SQLite wrapper: Database owns a connection, Statement a prepared statement,
// Transaction rolls back in its destructor unless committed; one begun inside another is a
// SAVEPOINT of it, so a group of writes can share one durable commit. Every SQLite failure becomes
// an Error value. The only product code that includes <sqlite3.h> (storage_test hooks its file
// layer to watch a busy wait).
// Thread-safety: one Database per thread; its Statements belong to the same thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "shared/core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ergon::storage {

enum class Durability {
  kNormal,  // WAL + synchronous=NORMAL: a client; a power cut may lose the last commits
  kFull,    // WAL + synchronous=FULL: the server acknowledges only what survives a power cut
};

struct Blob {
  std::string_view bytes;
};
struct Null {};

enum class StepResult { kRow, kDone };
/// The storage class of a value as SQLite holds it.
enum class ColumnType { kInteger, kFloat, kText, kBlob, kNull };

class Database;

class Statement {
 public:
  /// An empty statement; assign a prepared one before use.
  Statement() = default;
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() = default;

  /// Binds parameter `index` (1-based). Text and blobs are copied by SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  /// Stored as the same 64 bits in SQLite's signed INTEGER; column_uint64 reads it back.
  Statement& bind(int index, std::uint64_t value) {
    return bind(index, static_cast<std::int64_t>(value));
  }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, Blob blob);
  Statement& bind(int index, Null);
  Statement& bind(int index, const std::optional<std::string>& text);

  /// Runs one step. Binding errors from above surface here.
  [[nodiscard]] core::Result<StepResult> step();
  /// Steps to the end, for statements that return no rows.
  [[nodiscard]] core::Status run();
  /// Resets the statement and clears every binding, ready for reuse.
  void reset();

  /// Calls `row(*this)` for each result row, then resets. `row` returns void, a bool (false:
  /// stop here, the rows after it are never read) or a core::Status (the first failing row
  /// stops the walk and is returned).
  template <class Row>
  [[nodiscard]] core::Status for_each(Row&& row);
  /// Maps each row with `map(*this)` (returning T or core::Result<T>) into a vector.
  template <class T, class Map>
  [[nodiscard]] core::Result<std::vector<T>> collect(Map&& map);

  std::int64_t column_int64(int index) const;
  std::uint64_t column_uint64(int index) const {
    return static_cast<std::uint64_t>(column_int64(index));
  }
  std::string column_text(int index) const;
  std::string column_blob(int index) const;
  bool column_is_null(int index) const;
  ColumnType column_type(int index) const;

 private:
  friend class Database;
  struct Finalize {
    void operator()(sqlite3_stmt* s) const;
  };
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void note_bind(int rc);

  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  int bind_error_ = 0;
};

template <class Row>
core::Status Statement::for_each(Row&& row) {
  for (;;) {
    auto r = step();
    if (!r) return core::fail(r.error());
    if (*r == StepResult::kDone) break;
    using Returned = std::invoke_result_t<Row&, Statement&>;
    if constexpr (std::is_void_v<Returned>) {
      row(*this);
    } else if constexpr (std::is_same_v<Returned, bool>) {
      if (!row(*this)) break;
    } else {
      auto ok = row(*this);
      if (!ok) {
        reset();
        return core::fail(ok.error());
      }
    }
  }
  reset();
  return {};
}

template <class T, class Map>
core::Result<std::vector<T>> Statement::collect(Map&& map) {
  std::vector<T> out;
  ERGON_TRY(for_each([&](Statement& s) -> core::Status {
    if constexpr (std::is_convertible_v<std::invoke_result_t<Map&, Statement&>, T>) {
      out.push_back(map(s));
    } else {
      auto item = map(s);
      if (!item) return core::fail(item.error());
      out.push_back(std::move(*item));
    }
    return {};
  }));
  return out;
}

class Transaction;

class Database {
 public:
  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() = default;

  /// How open() treats the file.
  enum class Mode {
    kCreate,    // create it when missing
    kExisting,  // it must exist and hold a schema: an empty or foreign file is kCorrupt, and is
                // left exactly as it was (never re-initialised)
    kReadOnly,  // an existing file in a folder this process cannot write: reads only
  };

  /// Opens the file with WAL, foreign keys and a busy timeout.
  static core::Result<Database> open(const std::filesystem::path& path, Durability durability,
                                     Mode mode = Mode::kCreate);

  /// Prepares a statement meant to be kept and reused (SQLITE_PREPARE_PERSISTENT).
  [[nodiscard]] core::Result<Statement> prepare(std::string_view sql);
  /// Runs one or more statements without results.
  [[nodiscard]] core::Status exec(std::string_view sql);
  /// BEGIN IMMEDIATE: takes the write lock now, so the reads inside see what the write commits.
  /// Inside an open transaction it is a SAVEPOINT instead: its commit keeps its writes for the
  /// outer transaction to commit, its rollback undoes only them.
  [[nodiscard]] core::Result<Transaction> begin_immediate();
  /// BEGIN (deferred): a consistent read of one committed state (WAL snapshot isolation); a
  /// SAVEPOINT inside an open transaction, as above.
  [[nodiscard]] core::Result<Transaction> begin_read();
  /// Whether a transaction is open on this connection (SQLite may end one by itself: an I/O
  /// error or a full disk rolls it back).
  bool in_transaction() const;

  std::int64_t last_insert_id() const;
  int changes() const;
  /// The main database file's path.
  std::filesystem::path path() const;
  /// Writes one consistent copy of the database to `file` (VACUUM INTO, one read transaction:
  /// writers on other connections go on meanwhile).
  [[nodiscard]] core::Status copy_to(const std::filesystem::path& file);

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Close> db_;
};

class Transaction {
 public:
  Transaction(Transaction&& other) noexcept : db_(other.db_), nested_(other.nested_) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  /// Rolls back unless commit() succeeded.
  ~Transaction();

  /// COMMIT, or RELEASE of a savepoint (durable only when its outer transaction commits).
  [[nodiscard]] core::Status commit();
  /// Still open: not committed, and not rolled back by SQLite itself after an error.
  bool is_open() const { return db_ && db_->in_transaction(); }

 private:
  friend class Database;
  Transaction(Database* db, bool nested) : db_(db), nested_(nested) {}
  Database* db_;
  bool nested_;
};

/// Statements prepared once, on first use, and kept for the connection's life. A store keeps
/// its SQL as constants (never built per call); `get` hands back the statement reset and
/// unbound, ready to bind.
class StatementCache {
 public:
  explicit StatementCache(Database& db) : db_(&db) {}
  [[nodiscard]] core::Result<Statement*> get(std::string_view sql);

 private:
  // Looked up by the SQL text without copying it into a key each time (a sync asks for the
  // same few statements hundreds of thousands of times).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  Database* db_;
  std::unordered_map<std::string, Statement, TextHash, std::equal_to<>> statements_;
};

/// One schema step: PRAGMA user_version becomes `version` once `sql` has run.
struct Migration {
  int version;
  std::string_view sql;
};

/// The database's schema version (PRAGMA user_version; 0 for a new file).
[[nodiscard]] core::Result<int> schema_version(Database& db);

/// Applies the steps above the database's user_version, each in its own transaction. A
/// database newer than every step is refused (kVersionMismatch).
[[nodiscard]] core::Status migrate(Database& db, const std::vector<Migration>& steps);

}  // namespace ergon::storage

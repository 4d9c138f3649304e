#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "shared/core/error.h"
#include "shared/storage/database.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using ergon::storage::Blob;
using ergon::storage::Database;
using ergon::storage::Durability;
using ergon::storage::migrate;
using ergon::storage::Migration;
using ergon::storage::Null;
using ergon::storage::StepResult;
using ergon::testing::TempDir;

namespace {

Database open_db(const TempDir& dir, Durability durability = Durability::kNormal) {
  auto db = Database::open(dir / "test.db", durability);
  INFO((db ? std::string() : db.error().message));
  REQUIRE(db.has_value());
  return std::move(*db);
}

void exec(Database& db, std::string_view sql) {
  auto ok = db.exec(sql);
  INFO(std::string(sql) << (ok ? std::string() : " -> " + ok.error().message));
  REQUIRE(ok.has_value());
}

// The single integer the query returns.
std::int64_t query_int(Database& db, std::string_view sql) {
  auto stmt = db.prepare(sql);
  INFO(std::string(sql) << (stmt ? std::string() : " -> " + stmt.error().message));
  REQUIRE(stmt.has_value());
  auto row = stmt->step();
  REQUIRE(row.has_value());
  REQUIRE(*row == StepResult::kRow);
  return stmt->column_int64(0);
}

std::int64_t user_version(Database& db) { return query_int(db, "PRAGMA user_version"); }

bool table_exists(Database& db, std::string_view name) {
  return query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '" +
                           std::string(name) + "'") == 1;
}

const std::vector<Migration> kSteps = {
    {1, "CREATE TABLE proposal(id TEXT PRIMARY KEY, title TEXT NOT NULL);"},
    {2,
     "CREATE TABLE note(proposal TEXT NOT NULL, body TEXT);"
     "CREATE INDEX note_by_proposal ON note(proposal);"},
};

// While alive, the default SQLite VFS is a copy of the one before it that reports when one
// chosen thread sleeps. SQLite's busy handler sleeps through the VFS between its attempts to take
// a lock another connection holds, so that sleep is how a test knows a connection is waiting.
// (A test hook: the product code keeps <sqlite3.h> inside database.cpp.) One at a time.
class BusyWaitWatch {
 public:
  BusyWaitWatch() : base_(sqlite3_vfs_find(nullptr)) {
    REQUIRE(base_ != nullptr);
    vfs_ = *base_;
    vfs_.zName = "ergon-test-busy-wait-watch";
    vfs_.pNext = nullptr;
    vfs_.xSleep = &BusyWaitWatch::sleep;
    active_ = this;
    REQUIRE(sqlite3_vfs_register(&vfs_, 1) == SQLITE_OK);
  }
  ~BusyWaitWatch() {
    sqlite3_vfs_unregister(&vfs_);
    active_ = nullptr;
  }
  BusyWaitWatch(const BusyWaitWatch&) = delete;
  BusyWaitWatch& operator=(const BusyWaitWatch&) = delete;

  /// From now on a sleep of the calling thread is reported.
  void watch_this_thread() {
    std::lock_guard lock(mutex_);
    watched_ = std::this_thread::get_id();
  }
  /// Ends the wait of wait_for_sleep() without a sleep (the watched thread is finishing).
  void give_up() {
    std::lock_guard lock(mutex_);
    gave_up_ = true;
    changed_.notify_all();
  }
  /// True once the watched thread has slept (is waiting for a lock); false on give_up() or
  /// after `timeout`.
  bool wait_for_sleep(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return slept_ || gave_up_; });
    return slept_;
  }

 private:
  static int sleep(sqlite3_vfs* /*vfs*/, int microseconds) {
    auto* self = active_;
    {
      std::lock_guard lock(self->mutex_);
      if (std::this_thread::get_id() == self->watched_) {
        self->slept_ = true;
        self->changed_.notify_all();
      }
    }
    return self->base_->xSleep(self->base_, microseconds);
  }

  static inline BusyWaitWatch* active_ = nullptr;
  sqlite3_vfs* base_;
  sqlite3_vfs vfs_{};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread::id watched_;
  bool slept_ = false;
  bool gave_up_ = false;
};

}  // namespace

TEST_CASE("a new database file is created and opened", "[storage]") {
  TempDir dir;
  auto durability = GENERATE(Durability::kNormal, Durability::kFull);
  auto db = open_db(dir, durability);
  CHECK(std::filesystem::exists(dir / "test.db"));
  CHECK(user_version(db) == 0);
  auto mode = db.prepare("PRAGMA journal_mode");
  REQUIRE(mode.has_value());
  REQUIRE(*mode->step() == StepResult::kRow);
  CHECK(mode->column_text(0) == "wal");
  CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
  CHECK(query_int(db, "PRAGMA synchronous") == (durability == Durability::kFull ? 2 : 1));
}

TEST_CASE("opening a file in a folder that does not exist is a storage error", "[storage]") {
  TempDir dir;
  auto db = Database::open(dir / "missing" / "test.db", Durability::kNormal);
  REQUIRE_FALSE(db.has_value());
  CHECK(db.error().code == ErrorCode::kStorage);
  CHECK_THAT(db.error().message, Contains("missing"));
}

TEST_CASE("opening a file that is not a database is reported as corrupt", "[storage]") {
  TempDir dir;
  ergon::testing::write_file(dir / "test.db", std::string(4096, 'x'));
  auto db = Database::open(dir / "test.db", Durability::kNormal);
  REQUIRE_FALSE(db.has_value());
  CHECK(db.error().code == ErrorCode::kCorrupt);
  CHECK_THAT(db.error().message, Contains("test.db"));
}

TEST_CASE("migrate applies every step and bumps user_version", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  CHECK(user_version(db) == 2);
  CHECK(table_exists(db, "proposal"));
  CHECK(table_exists(db, "note"));
}

TEST_CASE("migrating again is a no-op", "[storage]") {
  TempDir dir;
  {
    auto db = open_db(dir);
    REQUIRE(migrate(db, kSteps).has_value());
    exec(db, "INSERT INTO proposal VALUES ('a', 'Πλατεία')");
  }
  auto db = open_db(dir);  // re-running CREATE TABLE would fail: the steps must be skipped
  auto again = migrate(db, kSteps);
  INFO((again ? std::string() : again.error().message));
  REQUIRE(again.has_value());
  CHECK(user_version(db) == 2);
  CHECK(query_int(db, "SELECT count(*) FROM proposal") == 1);
}

TEST_CASE("migrate applies only the steps above the current version", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, {kSteps[0]}).has_value());
  CHECK(user_version(db) == 1);
  CHECK_FALSE(table_exists(db, "note"));
  REQUIRE(migrate(db, kSteps).has_value());
  CHECK(user_version(db) == 2);
  CHECK(table_exists(db, "note"));
}

TEST_CASE("a database newer than every step is refused as a version mismatch", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  exec(db, "PRAGMA user_version = 5");
  auto ok = migrate(db, kSteps);
  REQUIRE_FALSE(ok.has_value());
  CHECK(ok.error().code == ErrorCode::kVersionMismatch);
  CHECK_THAT(ok.error().message, Contains("5") && Contains("2"));
  CHECK(user_version(db) == 5);
  CHECK_FALSE(table_exists(db, "proposal"));
}

TEST_CASE("a failing migration step leaves nothing of itself behind", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  std::vector<Migration> steps = kSteps;
  steps.push_back({3, "CREATE TABLE half(x); SELEC nonsense;"});
  auto ok = migrate(db, steps);
  REQUIRE_FALSE(ok.has_value());
  CHECK(ok.error().code == ErrorCode::kStorage);
  CHECK(user_version(db) == 2);
  CHECK_FALSE(table_exists(db, "half"));
}

// Bug: migrate (database.cpp) reads user_version before BEGIN IMMEDIATE and never again, so
// when another process migrates the same new file meanwhile, it re-runs the steps that process
// already applied and fails ("table proposal already exists").
TEST_CASE("a connection that waited for another one's migration skips the applied steps",
          "[storage]") {
  BusyWaitWatch busy;  // before any connection opens, so that they all use it
  TempDir dir;
  auto first = open_db(dir);
  auto tx = first.begin_immediate();  // the first process starts migrating
  REQUIRE(tx.has_value());

  ergon::core::Status second_result;
  std::thread second([&] {
    auto db = Database::open(dir / "test.db", Durability::kNormal);
    if (db) {
      busy.watch_this_thread();
      second_result = migrate(*db, kSteps);  // reads version 0, then waits for the write lock
    } else {
      second_result = ergon::core::fail(db.error());
    }
    busy.give_up();
  });
  // Inside migrate only BEGIN IMMEDIATE waits (a WAL reader never waits for a writer), and it
  // comes after the version was read: once the second connection sleeps in its busy handler it
  // has read version 0 and must read it again when it gets the lock. Well inside its 5 s busy
  // timeout.
  bool second_waits = busy.wait_for_sleep(std::chrono::seconds(3));
  CHECK(second_waits);
  for (const auto& step : kSteps) exec(first, step.sql);
  exec(first, "PRAGMA user_version = 2");
  auto committed = tx->commit();
  second.join();
  REQUIRE(committed.has_value());
  INFO((second_result ? std::string() : second_result.error().message));
  CHECK(second_result.has_value());
}

TEST_CASE("a transaction that is not committed rolls back when it is destroyed", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  {
    auto tx = db.begin_immediate();
    REQUIRE(tx.has_value());
    exec(db, "INSERT INTO proposal VALUES ('a', 'Πλατεία')");
    CHECK(query_int(db, "SELECT count(*) FROM proposal") == 1);  // visible inside
  }
  CHECK(query_int(db, "SELECT count(*) FROM proposal") == 0);
  // The rollback ended the transaction: a new one can begin.
  auto next = db.begin_immediate();
  CHECK(next.has_value());
}

TEST_CASE("a committed transaction stays, also for another connection", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  {
    auto tx = db.begin_immediate();
    REQUIRE(tx.has_value());
    exec(db, "INSERT INTO proposal VALUES ('a', 'Πλατεία')");
    REQUIRE(tx->commit().has_value());
    auto twice = tx->commit();
    REQUIRE_FALSE(twice.has_value());
    CHECK(twice.error().code == ErrorCode::kInternal);
  }
  CHECK(query_int(db, "SELECT count(*) FROM proposal") == 1);
  auto other = open_db(dir);
  CHECK(query_int(other, "SELECT count(*) FROM proposal") == 1);
}

TEST_CASE("a moved-from transaction does not roll back what its new owner commits", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  std::optional<ergon::storage::Transaction> moved;
  {
    auto tx = db.begin_immediate();
    REQUIRE(tx.has_value());
    exec(db, "INSERT INTO proposal VALUES ('a', 'Πλατεία')");
    moved.emplace(std::move(*tx));
  }  // the moved-from transaction dies here
  auto committed = moved->commit();
  INFO((committed ? std::string() : committed.error().message));
  REQUIRE(committed.has_value());
  CHECK(query_int(db, "SELECT count(*) FROM proposal") == 1);
}

TEST_CASE("a transaction begun inside another is a savepoint of it", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  auto other = open_db(dir);
  CHECK_FALSE(db.in_transaction());
  {
    auto outer = db.begin_immediate();
    REQUIRE(outer.has_value());
    CHECK(db.in_transaction());
    {
      auto kept = db.begin_immediate();
      REQUIRE(kept.has_value());
      exec(db, "INSERT INTO proposal VALUES ('a', 'Πλατεία')");
      REQUIRE(kept->commit().has_value());
    }
    {
      auto undone = db.begin_immediate();
      REQUIRE(undone.has_value());
      exec(db, "INSERT INTO proposal VALUES ('b', 'Οδός')");
    }  // rolled back: only its own row goes
    {
      auto read = db.begin_read();
      REQUIRE(read.has_value());
      CHECK(query_int(db, "SELECT count(*) FROM proposal") == 1);
    }
    CHECK(db.in_transaction());  // the inner ones never end the outer one
    // Released is not committed: another connection sees nothing yet.
    CHECK(query_int(other, "SELECT count(*) FROM proposal") == 0);
    REQUIRE(outer->commit().has_value());
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(query_int(other, "SELECT count(*) FROM proposal") == 1);
  CHECK(query_int(other, "SELECT count(*) FROM proposal WHERE id = 'a'") == 1);

  // An outer rollback undoes the savepoints committed inside it.
  {
    auto outer = db.begin_immediate();
    REQUIRE(outer.has_value());
    auto inner = db.begin_immediate();
    REQUIRE(inner.has_value());
    exec(db, "INSERT INTO proposal VALUES ('c', 'Γέφυρα')");
    REQUIRE(inner->commit().has_value());
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(query_int(db, "SELECT count(*) FROM proposal") == 1);
}

TEST_CASE("bad SQL is an error value with code storage, not a crash", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  auto stmt = db.prepare("SELEC x");
  REQUIRE_FALSE(stmt.has_value());
  CHECK(stmt.error().code == ErrorCode::kStorage);
  CHECK_THAT(stmt.error().message, Contains("SELEC") && Contains("syntax error"));

  auto missing = db.prepare("SELECT * FROM no_such_table");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == ErrorCode::kStorage);
  CHECK_THAT(missing.error().message, Contains("no_such_table"));

  auto run = db.exec("DROP TABLE no_such_table");
  REQUIRE_FALSE(run.has_value());
  CHECK(run.error().code == ErrorCode::kStorage);
}

TEST_CASE("a UNIQUE or NOT NULL violation is an invalid argument", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(migrate(db, kSteps).has_value());
  exec(db, "INSERT INTO proposal VALUES ('a', 'Πλατεία')");

  auto duplicate = db.exec("INSERT INTO proposal VALUES ('a', 'άλλο')");
  REQUIRE_FALSE(duplicate.has_value());
  CHECK(duplicate.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(duplicate.error().message, Contains("UNIQUE"));

  auto insert = db.prepare("INSERT INTO proposal VALUES (?1, ?2)");
  REQUIRE(insert.has_value());
  insert->bind(1, std::string_view("a")).bind(2, std::string_view("τρίτο"));
  auto step = insert->step();
  REQUIRE_FALSE(step.has_value());
  CHECK(step.error().code == ErrorCode::kInvalidArgument);

  insert->reset();
  insert->bind(1, std::string_view("b")).bind(2, Null{});
  auto null_title = insert->run();
  REQUIRE_FALSE(null_title.has_value());
  CHECK(null_title.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(null_title.error().message, Contains("NOT NULL"));

  // The statement is usable again after an error.
  insert->reset();
  insert->bind(1, std::string_view("b")).bind(2, std::string_view("τρίτο"));
  CHECK(insert->run().has_value());
  CHECK(query_int(db, "SELECT count(*) FROM proposal") == 2);
}

TEST_CASE("reset clears the bindings of a statement", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  auto stmt = db.prepare("SELECT ?1");
  REQUIRE(stmt.has_value());
  stmt->bind(1, std::int64_t{5});
  REQUIRE(*stmt->step() == StepResult::kRow);
  CHECK(stmt->column_int64(0) == 5);
  CHECK_FALSE(stmt->column_is_null(0));
  stmt->reset();
  REQUIRE(*stmt->step() == StepResult::kRow);
  CHECK(stmt->column_is_null(0));
}

TEST_CASE("text, blob, null and int64 bindings round trip", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  exec(db, "CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n TEXT, o TEXT)");
  const std::string blob("\0\x01\xFF\0ab", 6);
  const std::string text = "Αναβάθμιση Πλατείας Ελευθερίας €";
  auto number = GENERATE(std::numeric_limits<std::int64_t>::min(), std::int64_t{-1},
                         std::int64_t{0}, std::numeric_limits<std::int64_t>::max());
  std::optional<std::string> present = "παρόν";

  auto insert = db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
  REQUIRE(insert.has_value());
  insert->bind(1, number).bind(2, std::string_view(text)).bind(3, Blob{blob}).bind(4, Null{});
  insert->bind(5, present);
  REQUIRE(insert->run().has_value());
  CHECK(db.changes() == 1);
  CHECK(db.last_insert_id() == 1);

  auto select = db.prepare("SELECT i, s, b, n, o, typeof(b), typeof(n) FROM t");
  REQUIRE(select.has_value());
  REQUIRE(*select->step() == StepResult::kRow);
  CHECK(select->column_int64(0) == number);
  CHECK(select->column_text(1) == text);
  CHECK(select->column_blob(2) == blob);
  CHECK(select->column_is_null(3));
  CHECK(select->column_text(3).empty());
  CHECK(select->column_text(4) == "παρόν");
  CHECK(select->column_text(5) == "blob");
  CHECK(select->column_text(6) == "null");
  CHECK(*select->step() == StepResult::kDone);
}

TEST_CASE("an empty optional text binds as NULL", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  auto stmt = db.prepare("SELECT ?1 IS NULL");
  REQUIRE(stmt.has_value());
  stmt->bind(1, std::optional<std::string>{});
  REQUIRE(*stmt->step() == StepResult::kRow);
  CHECK(stmt->column_int64(0) == 1);
}

TEST_CASE("a binding error surfaces at the next step", "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  auto stmt = db.prepare("SELECT ?1");
  REQUIRE(stmt.has_value());
  stmt->bind(2, std::int64_t{1});  // there is no parameter 2
  auto step = stmt->step();
  REQUIRE_FALSE(step.has_value());
  CHECK(step.error().code == ErrorCode::kStorage);
  CHECK_THAT(step.error().message, Contains("binding"));
  // Reported once: the statement then runs.
  auto again = stmt->step();
  REQUIRE(again.has_value());
  CHECK(*again == StepResult::kRow);
}

TEST_CASE("a row callback that answers false stops the walk, and the statement is reusable",
          "[storage]") {
  TempDir dir;
  auto db = open_db(dir);
  REQUIRE(db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3), (4);"));
  auto stmt = db.prepare("SELECT n FROM t ORDER BY n");
  REQUIRE(stmt);
  std::vector<std::int64_t> seen;
  REQUIRE(stmt->for_each([&](auto& s) {
    seen.push_back(s.column_int64(0));
    return seen.size() < 2;
  }));
  CHECK(seen == std::vector<std::int64_t>{1, 2});
  seen.clear();
  REQUIRE(stmt->for_each([&](auto& s) {
    seen.push_back(s.column_int64(0));
    return true;
  }));
  CHECK(seen == std::vector<std::int64_t>{1, 2, 3, 4});
}

// The audit chain as an attacker meets it: the SQLite file opened directly, the append-only
// triggers dropped, and then, one at a time, every column of a log row changed, a row deleted,
// two rows swapped, the tail truncated, the master edited. Each is detected and located; the
// truncated tail through a chain head a client holds.

#include <algorithm>
#include <cstring>

#include <catch2/catch.hpp>

#include "server/store/log_chain.h"
#include "shared/changelog/canonical.h"
#include "shared/changelog/field_value_io.h"
#include "shared/changelog/log_entry.h"
#include "tests/server/sync_harness.h"

using namespace ergon;
using merge::Role;
using server::chain::Cell;
using testing::SyncHarness;

namespace {

model::FieldValues a_proposal(const std::string& title) {
  return {{"title", title},      {"category", "work"},         {"new_or_continuing", "new"},
          {"area", "HER-CITY"},  {"total_budget", "1.000,00"}, {"allocation", "400,00"},
          {"funding", "1099"},   {"status", "maturing"},       {"priority", "B"},
          {"directorate", "DTE"}};
}

// A small log: creates, edits, a conflict, an envelope; six rows or more.
void write_history(SyncHarness& h) {
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto a = dte.store->create(a_proposal("Πρώτο έργο"));
  auto b = dte.store->create(a_proposal("Δεύτερο έργο"));
  REQUIRE((a && b));
  h.sync(dte);
  h.pull(planning);
  REQUIRE(planning.store->edit(a->id, {{"allocation", "500,00"}, {"funding", "1099"}}));
  REQUIRE(dte.store->edit(a->id, {{"allocation", "600,00"}, {"funding", "1099"}}));
  REQUIRE(dte.store->edit(b->id, {{"remarks", "Σχόλιο"}}));
  h.sync(planning);
  h.sync(dte);
  h.pull(budget);
  REQUIRE(budget.store->set_envelope(2024, "1099", *model::Money::parse("1.000,00")));
  h.sync(budget);
}

// Recomputes the hashes of every row after `seq` from `previous`, as a forger holding the
// whole file would.
void rehash_after(storage::Database& db, std::int64_t seq, crypto::Digest previous) {
  auto rows = db.prepare("SELECT " + server::chain::column_list() + " FROM log WHERE seq > " +
                         std::to_string(seq) + " ORDER BY seq");
  REQUIRE(rows);
  std::vector<std::pair<std::int64_t, crypto::Digest>> rehashed;
  REQUIRE(rows->for_each([&](storage::Statement& s) {
    previous = server::chain::step(previous, server::chain::read_cells(s));
    rehashed.emplace_back(s.column_int64(0), previous);
  }));
  auto put_hash = db.prepare("UPDATE log SET hash = ?2 WHERE seq = ?1");
  REQUIRE(put_hash);
  for (const auto& [at, hash] : rehashed) {
    put_hash->reset();
    REQUIRE(put_hash->bind(1, at).bind(2, storage::Blob{crypto::as_bytes(hash)}).run());
  }
}

storage::Database open_file(SyncHarness& h) {
  auto db = storage::Database::open(h.server_dir() / server::MasterStore::kDatabaseFile,
                                    storage::Durability::kNormal);
  REQUIRE(db);
  REQUIRE(
      db->exec("DROP TRIGGER log_is_append_only_update; "
               "DROP TRIGGER log_is_append_only_delete;"));
  return std::move(*db);
}

server::VerifyReport verify(SyncHarness& h, std::span<const server::HeldHead> heads = {}) {
  auto report = h.master().verify(heads);
  REQUIRE(report);
  return *report;
}

// The stored type of `column` in row `seq`, to change it to another value of the same type.
std::string changed_value_sql(storage::Database& db, const std::string& column, int seq) {
  auto stmt =
      db.prepare("SELECT typeof(" + column + ") FROM log WHERE seq = " + std::to_string(seq));
  REQUIRE(stmt);
  std::string type;
  REQUIRE(stmt->for_each([&](storage::Statement& s) { type = s.column_text(0); }));
  if (type == "integer") return column + " + 1000";  // no other row's position
  if (type == "text") return column + " || 'x'";
  return "CAST(" + column + " || x'00' AS BLOB)";
}

}  // namespace

TEST_CASE("the chain covers every column of the log table but the hash itself", "[audit]") {
  SyncHarness h;
  auto db = open_file(h);
  auto stmt = db.prepare("SELECT name FROM pragma_table_info('log') ORDER BY cid");
  REQUIRE(stmt);
  std::vector<std::string> stored;
  REQUIRE(stmt->for_each([&](storage::Statement& s) { stored.push_back(s.column_text(0)); }));
  std::vector<std::string> chained(server::chain::columns().begin(),
                                   server::chain::columns().end());
  chained.push_back("hash");
  std::sort(stored.begin(), stored.end());
  std::sort(chained.begin(), chained.end());
  CHECK(stored == chained);
}

TEST_CASE("changing any one column of a log row is detected at that row", "[audit]") {
  std::vector<std::string> columns(server::chain::columns().begin(),
                                   server::chain::columns().end());
  columns.push_back("hash");
  for (const auto& column : columns) {
    DYNAMIC_SECTION("column " << column) {
      SyncHarness h;
      write_history(h);
      REQUIRE(verify(h).problem.empty());
      auto db = open_file(h);
      REQUIRE(db.exec("UPDATE log SET " + column + " = " + changed_value_sql(db, column, 3) +
                      " WHERE seq = 3"));
      auto report = verify(h);
      INFO(report.problem);
      CHECK_THAT(report.problem, Catch::Contains("row 3"));
      CHECK(report.rows == 2u);  // the rows before it verified
    }
  }
}

TEST_CASE("a deleted row, two swapped rows and an edited master are detected", "[audit]") {
  SyncHarness h;
  write_history(h);
  auto db = open_file(h);
  SECTION("deleted") {
    REQUIRE(db.exec("DELETE FROM log WHERE seq = 3"));
    CHECK_THAT(verify(h).problem, Catch::Contains("row 3 is missing"));
  }
  SECTION("swapped") {
    // Every column but the position trades places between rows 2 and 3.
    REQUIRE(
        db.exec("UPDATE log SET seq = -2 WHERE seq = 2; UPDATE log SET seq = 2 WHERE seq = 3; "
                "UPDATE log SET seq = 3 WHERE seq = -2;"));
    auto report = verify(h);
    CHECK(report.broken_seq == std::optional<std::uint64_t>(2));
  }
  SECTION("the master") {
    REQUIRE(
        db.exec("UPDATE proposals SET vals = (SELECT vals FROM proposals LIMIT 1 OFFSET 1) "
                "WHERE rowid = (SELECT min(rowid) FROM proposals)"));
    CHECK_THAT(verify(h).problem, Catch::Contains("in the master, but the log's accepted changes"));
  }
}

TEST_CASE("a truncated tail shows against the chain head a client holds", "[audit]") {
  SyncHarness h;
  write_history(h);
  auto intact = verify(h);
  REQUIRE(intact.problem.empty());
  const server::HeldHead held{intact.head_at, intact.head};
  CHECK(verify(h, std::span(&held, 1)).problem.empty());
  auto db = open_file(h);
  REQUIRE(db.exec("DELETE FROM log WHERE seq >= " + std::to_string(intact.head_at.seq)));
  // Without a head held outside, a clean cut looks like a shorter log (the README says so) —
  // here the master still holds the cut rows' values, so even that shows.
  auto report = verify(h, std::span(&held, 1));
  CHECK_FALSE(report.problem.empty());
  SECTION("the master cut back too: only the held head tells") {
    auto shorter = intact.head_at.seq - 1;  // the envelope's row is gone
    REQUIRE(db.exec("DELETE FROM envelopes"));
    auto cut = verify(h);
    INFO(cut.problem);
    REQUIRE(cut.problem.empty());
    CHECK(cut.rows == shorter);
    CHECK_THAT(verify(h, std::span(&held, 1)).problem,
               Catch::Contains("were removed") && Catch::Contains(std::to_string(held.at.seq)));
  }
}

TEST_CASE("rows written under chain version 1 are verified under version 1", "[audit]") {
  SyncHarness h;
  write_history(h);
  auto db = open_file(h);
  // Row 1 as a version-1 server wrote it: its hash over the canonical change and outcome only;
  // the later rows chain from it.
  REQUIRE(
      db.exec("UPDATE log SET chain_version = 1, enrolment = '', role = '', directorate = '' "
              "WHERE seq = 1"));
  auto entries = h.master().log_after(0, 1000);
  REQUIRE(entries);
  auto previous = changelog::chain_hash({}, entries->front().change, entries->front().outcome);
  auto put_hash = db.prepare("UPDATE log SET hash = ?2 WHERE seq = ?1");
  REQUIRE(put_hash);
  REQUIRE(put_hash->bind(1, 1).bind(2, storage::Blob{crypto::as_bytes(previous)}).run());
  rehash_after(db, 1, previous);
  auto report = verify(h);
  INFO(report.problem);
  CHECK(report.problem.empty());
  CHECK(report.v1_rows == 1u);
  // A version-1 row is still checked against its canonical change: its user cannot be changed.
  REQUIRE(db.exec("UPDATE log SET user = 'Άλλος' WHERE seq = 1"));
  CHECK_THAT(verify(h).problem, Catch::Contains("log row 1") && Catch::Contains("user"));
}

TEST_CASE("a rehashed row whose values cannot be applied is found by the replay", "[audit]") {
  SyncHarness h;
  write_history(h);
  auto intact = verify(h);
  REQUIRE(intact.problem.empty());
  auto db = open_file(h);
  auto entries = h.master().log_after(0, 1000);
  REQUIRE(entries);
  auto money = std::find_if(entries->begin(), entries->end(), [](const auto& e) {
    return e.change.group == "money" && e.outcome.is_new_revision;
  });
  REQUIRE(money != entries->end());
  const auto seq = static_cast<std::int64_t>(money->outcome.position.seq);
  REQUIRE(seq > 1);
  // A forger rewrites the row's values consistently (columns and canonical bytes) and rehashes
  // the chain from there: only the replay can tell the values were never a valid change.
  auto forged = money->change;
  forged.values["allocation"] = "πολλά";
  auto put = db.prepare("UPDATE log SET vals = ?2, canonical = ?3 WHERE seq = ?1");
  REQUIRE(put);
  REQUIRE(put->bind(1, seq)
              .bind(2, storage::Blob{changelog::encode_values(forged.values)})
              .bind(3, storage::Blob{changelog::canonical_bytes(forged)})
              .run());
  auto before = db.prepare("SELECT hash FROM log WHERE seq = " + std::to_string(seq - 1));
  REQUIRE(before);
  crypto::Digest previous{};
  REQUIRE(before->for_each([&](storage::Statement& s) {
    auto bytes = s.column_blob(0);
    REQUIRE(bytes.size() == previous.size());
    std::memcpy(previous.data(), bytes.data(), previous.size());
  }));
  rehash_after(db, seq - 1, previous);
  auto report = verify(h);
  INFO(report.problem);
  CHECK_THAT(report.problem, Catch::Contains("log row " + std::to_string(seq) + ":") &&
                                 Catch::Contains("accepted values do not apply"));
  CHECK(report.broken_seq == std::optional<std::uint64_t>(seq));
  CHECK(report.rows == static_cast<std::uint64_t>(seq - 1));  // the rows before it verified
  CHECK(report.head_at.seq == static_cast<std::uint64_t>(seq - 1));
  CHECK(report.head == previous);
}

TEST_CASE("the version-2 chain step is pinned by a golden vector", "[audit]") {
  std::vector<Cell> cells;
  for (std::size_t i = 0; i < server::chain::columns().size(); ++i)
    cells.push_back(i % 3 == 0   ? Cell::of(std::int64_t{static_cast<std::int64_t>(i)})
                    : i % 3 == 1 ? Cell::text("τιμή " + std::to_string(i))
                                 : Cell::blob(std::string(i, '\x01')));
  auto hash = server::chain::step(crypto::Digest{}, cells);
  // Changing the encoding breaks every stored log: a new version is the only way.
  CHECK(crypto::to_hex(hash) == "33500d6b8b24c5d7a1d9c15473e32bf31ab65eb303e0f30871c3321c23601a01");
}

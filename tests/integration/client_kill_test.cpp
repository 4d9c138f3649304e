// `ergon sync` is killed with SIGKILL while it pushes and pulls a backlog; the next sync must
// finish what it started, with nothing lost or applied twice. A pull cut after its first page
// keeps that page (each page is one local transaction with its cursor) and resumes from it.
// Seeded; ERGON_INTEGRATION_SEED=N replays a run.
//
// No kill is timed by a guess. The test holds the write lock of the client's home (and of the
// server's store) with its own SQLite connection: the other process's next write waits for it
// (up to its busy timeout of 5 s) while its reads and network go on; and it stops the client
// (SIGSTOP) where it must not go on. So it kills a sync at a point it chose, and knows there what
// the killed process leaves behind.

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include "shared/storage/database.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;
using ergon::storage::Database;
using Clock = std::chrono::steady_clock;

namespace {

// SQLite's own check of the home's pages and indexes.
void require_home_intact(const Client& c) {
  auto db =
      ergon::storage::Database::open(c.home / "ergon.db", ergon::storage::Durability::kNormal);
  REQUIRE(db);
  auto check = db->prepare("PRAGMA integrity_check");
  REQUIRE(check);
  auto row = check->step();
  REQUIRE(row);
  REQUIRE(*row == ergon::storage::StepResult::kRow);
  REQUIRE(check->column_text(0) == "ok");
}

// A connection of the test's own to a database another process uses.
Database open_existing(const std::filesystem::path& file) {
  auto db = Database::open(file, ergon::storage::Durability::kNormal, Database::Mode::kExisting);
  if (!db) FAIL("open " << file << ": " << db.error().message);
  return std::move(*db);
}

// The first column of the first row of `sql` with `key` bound to ?1, as text ("" for no row).
std::string query_text(Database& db, std::string_view sql, std::string_view key = {}) {
  auto stmt = db.prepare(sql);
  if (!stmt) FAIL(sql << ": " << stmt.error().message);
  if (!key.empty()) stmt->bind(1, key);
  auto row = stmt->step();
  if (!row) FAIL(sql << ": " << row.error().message);
  return *row == ergon::storage::StepResult::kRow ? stmt->column_text(0) : std::string();
}

// A setting of a client home ("" when unset): cursor, server_id, bootstrap_pending, epoch…
std::string meta(Database& home, std::string_view key) {
  return query_text(home, "SELECT value FROM meta WHERE key = ?1", key);
}

// What the server's store says of an enrolment: its high-water mark and when it last connected
// (the server writes that when it binds a session, before it sends the welcome).
struct DeviceRow {
  std::uint64_t high_water = 0;
  std::string last_seen_ms;
};
DeviceRow device_row(Database& store, const std::string& token) {
  auto enrolled = token.substr(0, token.find('.'));
  auto high_water =
      query_text(store, "SELECT high_water FROM devices WHERE device_id = ?1", enrolled);
  if (high_water.empty()) FAIL("no enrolment " << enrolled);
  return {std::stoull(high_water),
          query_text(store, "SELECT last_seen_ms FROM devices WHERE device_id = ?1", enrolled)};
}

// Holds the write lock of a database (BEGIN IMMEDIATE) while taken: any other connection's next
// write waits until release(); its reads do not. Taking it waits for a write in progress.
class WriteLock {
 public:
  explicit WriteLock(Database& db) : db_(db) {}
  void take() {
    auto tx = db_.begin_immediate();
    if (!tx) FAIL("taking the write lock: " << tx.error().message);
    tx_.emplace(std::move(*tx));
  }
  void release() { tx_.reset(); }  // rolls back: the test never writes

 private:
  Database& db_;
  std::optional<ergon::storage::Transaction> tx_;
};

// Polls `reached` until it holds; fails the test with the child's output if the child ends first
// or nothing happens for 30 s.
template <class Reached>
void wait_until(ChildProcess& child, const std::filesystem::path& log, const char* what,
                Reached reached) {
  auto deadline = Clock::now() + 30s;
  while (!reached()) {
    if (auto ended = child.try_wait())
      FAIL("the sync ended (" << (ended->exited ? "exit " : "signal ")
                              << (ended->exited ? ended->code : ended->signal) << ") before "
                              << what << "; its output: " << read_file(log));
    if (Clock::now() > deadline) FAIL("waited 30 s for " << what << "; output: " << read_file(log));
    std::this_thread::sleep_for(200us);
  }
}

// Stops a child (SIGSTOP) and returns once it is stopped; SIGKILL still ends it.
void stop(ChildProcess& child) {
  REQUIRE(::kill(child.pid(), SIGSTOP) == 0);
  siginfo_t info{};
  // WNOWAIT: the child stays waitable, for ChildProcess to reap.
  REQUIRE(::waitid(P_PID, static_cast<id_t>(child.pid()), &info, WSTOPPED | WEXITED | WNOWAIT) ==
          0);
  REQUIRE(info.si_code == CLD_STOPPED);
}

void resume(ChildProcess& child) { REQUIRE(::kill(child.pid(), SIGCONT) == 0); }

// Where a sync of x (test 1) is killed.
enum class Stage {
  kBeforePush,       // admitted; its first write (the welcome's identity) waits: nothing sent
  kPushUnanswered,   // admitted, then let go with the server's store locked: no push answered
  kServerCommitted,  // the server logged the whole push; x, stopped, learnt none of it
};
constexpr const char* kStageNames[] = {"before its push", "with its push unanswered",
                                       "after the server logged its push"};

}  // namespace

TEST_CASE("ergon sync killed at random moments resumes and converges", "[integration]") {
  constexpr int kRounds = 20;
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto x = server.add_client("x", "directorate", "DTE");  // the one killed
  auto y = server.add_client("y", "directorate", "DTE");  // makes what x must pull
  x.sync();
  y.sync();
  auto ids = x.proposal_ids("DTE");
  REQUIRE(ids.size() == 15);
  // Disjoint proposals, so that no edit conflicts and each last value is known.
  std::vector<std::string> x_ids(ids.begin(), ids.begin() + 8), y_ids(ids.begin() + 8, ids.end());
  std::map<std::string, std::string> last;

  std::uint64_t made_x = make_remarks_edits(x.home, x_ids, 300, "x-c", random, last), made_y = 0;
  REQUIRE(x.sync().at("accepted") == 300);

  auto home = open_existing(x.home / "ergon.db");
  auto store = open_existing(server.data() / "ergond.db");
  std::map<Stage, int> kills;
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    auto suffix = std::to_string(round);
    auto from_y =
        make_remarks_edits(y.home, y_ids, 50 + random() % 150, "y-" + suffix, random, last);
    made_y += from_y;
    REQUIRE(y.sync().at("accepted") == from_y);
    made_x += make_remarks_edits(x.home, x_ids, 50 + random() % 350, "x-" + suffix, random, last);
    auto pending = x.status().at("pending").get<std::uint64_t>();
    auto stage = static_cast<Stage>(random() % 3);
    INFO("killed " << kStageNames[static_cast<int>(stage)] << "; " << pending << " to push, "
                   << from_y << " to pull");
    auto cursor = meta(home, "cursor");
    auto before = device_row(store, x.token);
    REQUIRE(before.high_water + pending == made_x);

    auto log = dir / ("sync-" + suffix + ".log");
    WriteLock home_lock(home), store_lock(store);
    home_lock.take();  // x's first write, after the welcome, waits: it sends no push
    auto child = ChildProcess::spawn(x.sync_argv(), log);
    wait_until(child, log, "the server to admit x",
               [&] { return device_row(store, x.token).last_seen_ms != before.last_seen_ms; });
    if (stage != Stage::kBeforePush) {
      // The session's bind is committed; from here x's push is not, and x gets no answer.
      store_lock.take();
      home_lock.release();
      std::this_thread::sleep_for(std::chrono::microseconds(random() % 20'000));
    }
    if (stage == Stage::kServerCommitted) {
      // Stopped, x cannot apply an answer; unlocked, the server logs the push if it has it. If
      // not, x goes on (it can send but not be answered) and the test tries again.
      auto deadline = Clock::now() + 30s;
      for (;;) {
        stop(child);
        store_lock.release();
        for (auto grace = Clock::now() + 300ms; Clock::now() < grace;) {
          if (device_row(store, x.token).high_water == made_x) break;
          std::this_thread::sleep_for(1ms);
        }
        store_lock.take();  // waits for a commit in progress
        if (device_row(store, x.token).high_water == made_x) break;
        if (Clock::now() > deadline) FAIL("the server never logged x's push: " << read_file(log));
        resume(child);
        std::this_thread::sleep_for(5ms);
      }
    }
    auto status = child.kill_and_wait(SIGKILL);
    home_lock.release();
    store_lock.release();
    INFO("its output: " << read_file(log));
    REQUIRE_FALSE(status.exited);  // stopped mid-sync, it cannot have finished
    CHECK(status.signal == SIGKILL);
    ++kills[stage];
    CHECK(meta(home, "cursor") == cursor);  // nothing it pulled was applied
    require_home_intact(x);
    CHECK(last_device_seq(x.home) == made_x);

    auto again = x.sync();
    CHECK(again.at("sent") == pending);
    CHECK(again.at("accepted") == pending);
    // A change the server logged before the kill comes back with its first outcome.
    auto duplicates = again.at("duplicates").get<std::uint64_t>();
    if (stage == Stage::kBeforePush) CHECK(duplicates == 0);
    if (stage == Stage::kPushUnanswered) CHECK((duplicates == 0 || duplicates == pending));
    if (stage == Stage::kServerCommitted) CHECK(duplicates == pending);
    CHECK(again.at("rejected") == 0);
    CHECK(again.at("conflicts") == 0);
    CHECK(again.at("digest") == server.verify().at("digest"));
    CHECK(x.status().at("pending") == 0);
    CHECK(server.high_water_mark(x.token) == made_x);
  }
  UNSCOPED_INFO("killed " << kills[Stage::kBeforePush] << " times before the push, "
                          << kills[Stage::kPushUnanswered] << " with it unanswered, "
                          << kills[Stage::kServerCommitted] << " after the server logged it");

  // One log row per change, none twice; every last value on a client that bootstraps now.
  auto verified = server.verify();
  CHECK(verified.at("rows").get<std::uint64_t>() == 20 + made_x + made_y);
  CHECK(server.high_water_mark(y.token) == made_y);
  auto fresh = server.add_client("fresh", "auditor", "");
  CHECK(fresh.sync().at("digest") == verified.at("digest"));
  CHECK(y.sync().at("digest") == verified.at("digest"));
  for (const auto& [id, remarks] : last) {
    INFO(id);
    CHECK(fresh.run_json({"show", id, "--json"}).at("remarks") == remarks);
    CHECK(x.run_json({"show", id, "--json"}).at("remarks") == remarks);
  }
  CHECK(x.run_json({"list", "--json"}) == fresh.run_json({"list", "--json"}));
  CHECK(x.run_json({"list", "--json"}) == y.run_json({"list", "--json"}));
}

TEST_CASE("a first sync (bootstrap) killed at random moments is redone whole", "[integration]") {
  constexpr int kRounds = 10;
  constexpr int kAttempts = 3 * kRounds;
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto programme = planning.run_json({"list", "--json"});
  auto digest = server.verify().at("digest");
  auto store = open_existing(server.data() / "ergond.db");

  // How long a bootstrap runs once the server admitted the client.
  auto timed = server.add_client("timed", "directorate", "DTE");
  auto timed_seen = device_row(store, timed.token).last_seen_ms;
  auto timed_log = dir / "timed.log";
  auto timed_child = ChildProcess::spawn(timed.sync_argv(), timed_log);
  wait_until(timed_child, timed_log, "the server to admit the client",
             [&] { return device_row(store, timed.token).last_seen_ms != timed_seen; });
  auto admitted = Clock::now();
  REQUIRE(timed_child.wait().ok());
  auto longest = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - admitted);
  REQUIRE(json_in(read_file(timed_log)).at("bootstrapped") == true);

  // Each attempt lets a new client's sync run for a random part of that after its admission,
  // then takes its home's write lock: the state read under the lock is the one the kill leaves.
  // An attempt whose sync got to its end (the epoch is written last) killed nothing mid-work:
  // it is not counted, and the next ones run for less.
  std::map<std::string, int> states;
  int killed = 0, attempt = 0;
  for (; killed < kRounds && attempt < kAttempts; ++attempt) {
    INFO("attempt " << attempt);
    auto c = server.add_client("new-" + std::to_string(attempt), "directorate",
                               attempt % 2 ? "DTE" : "DPOL");
    auto home = open_existing(c.home / "ergon.db");
    auto seen = device_row(store, c.token).last_seen_ms;
    auto delay = longest * static_cast<long>(random() % 1000) / 1000;
    auto log = dir / ("bootstrap-" + std::to_string(attempt) + ".log");

    WriteLock home_lock(home);
    home_lock.take();  // its first write, after the welcome, waits
    auto child = ChildProcess::spawn(c.sync_argv(), log);
    wait_until(child, log, "the server to admit the client",
               [&] { return device_row(store, c.token).last_seen_ms != seen; });
    home_lock.release();
    std::this_thread::sleep_for(delay);
    home_lock.take();  // from here it commits nothing more
    auto server_id = meta(home, "server_id"), cursor = meta(home, "cursor");
    auto pending = meta(home, "bootstrap_pending"), epoch = meta(home, "epoch");
    auto status = child.kill_and_wait(SIGKILL);
    home_lock.release();
    INFO("stopped " << delay.count() << " µs after its admission; its output: " << read_file(log));
    if (epoch.empty()) {
      REQUIRE_FALSE(status.exited);  // its last writes waited for the lock: it had not finished
      CHECK(status.signal == SIGKILL);
      ++killed;
      ++states[server_id.empty() ? "before adopting the welcome"
               : cursor.empty()  ? "before the first page"
               : pending == "1"  ? "with the bootstrap pending"
                                 : "after the snapshot, before the end"];
    } else {
      CHECK((status.exited ? status.code == 0 : status.signal == SIGKILL));
      longest /= 2;  // it had pulled everything already
    }
    require_home_intact(c);
    auto again = c.sync();
    CHECK(again.at("digest") == digest);
    CHECK(again.at("cursor") == 20);
    CHECK(c.run_json({"list", "--json"}) == programme);
    CHECK(c.status().at("role") == "directorate");
    CHECK(c.status().at("directorate") == c.directorate);
  }
  for (const auto& [state, count] : states) UNSCOPED_INFO(count << " killed " << state);
  CHECK(killed == kRounds);
}

TEST_CASE("a pull cut after its first page resumes from the cursor", "[integration]") {
  constexpr std::uint64_t kChanges = 3000;  // three pages of 1000
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto writer = server.add_client("writer", "directorate", "DTE");
  auto reader = server.add_client("reader", "directorate", "DPOL");
  writer.sync();
  auto bootstrapped = reader.sync();
  REQUIRE(bootstrapped.at("bootstrapped") == true);
  auto start_cursor = cursor_of(reader.home);
  REQUIRE(start_cursor == 20);

  std::map<std::string, std::string> last;
  REQUIRE(make_remarks_edits(writer.home, writer.proposal_ids("DTE"), kChanges, "w", random,
                             last) == kChanges);
  REQUIRE(writer.sync().at("accepted") == kChanges);
  auto head = start_cursor + kChanges;

  // The reader pulls the 3000 entries; it is killed as soon as it reports the first page
  // applied ("received up to …", printed after that page's transaction committed).
  auto log = dir / "pull.log";
  auto child = ChildProcess::spawn(reader.sync_argv(), log);
  auto deadline = Clock::now() + 60s;
  std::string output;
  while (Clock::now() < deadline && !child.try_wait()) {
    output = read_file(log);
    if (output.find("received up to") != std::string::npos) break;
    std::this_thread::sleep_for(500us);
  }
  auto status = child.kill_and_wait(SIGKILL);
  output = read_file(log);
  INFO("the first sync's output: " << output);
  REQUIRE_THAT(output, Catch::Contains("received up to"));
  auto kept = cursor_of(reader.home);
  UNSCOPED_INFO("the killed pull kept the cursor at "
                << kept << " of " << head << (status.exited ? " (it had finished)" : ""));
  CHECK_FALSE(status.exited);  // killed mid-pull, not after
  CHECK(kept >= start_cursor + 1000);
  CHECK(kept < head);
  require_home_intact(reader);

  auto resumed = reader.sync();
  CHECK(resumed.at("bootstrapped") == false);
  CHECK(resumed.at("received") == head - kept);
  CHECK(resumed.at("received").get<std::uint64_t>() < kChanges);
  CHECK(resumed.at("cursor") == head);
  CHECK(resumed.at("digest") == server.verify().at("digest"));
  for (const auto& [id, remarks] : last) {
    INFO(id);
    CHECK(reader.run_json({"show", id, "--json"}).at("remarks") == remarks);
  }
}

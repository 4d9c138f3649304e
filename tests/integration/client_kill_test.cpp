// `ergon sync` is killed with SIGKILL while it pushes and pulls a backlog; the next sync must
// finish what it started, with nothing lost or applied twice. A pull cut after its first page
// keeps that page (each page is one local transaction with its cursor) and resumes from it.
// Seeded; ERGON_INTEGRATION_SEED=N replays a run.

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>

#include "shared/storage/database.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;
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
  auto start = Clock::now();
  REQUIRE(x.sync().at("accepted") == 300);
  auto per_change = (Clock::now() - start) / 300;

  std::size_t finished_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    auto suffix = std::to_string(round);
    auto from_y =
        make_remarks_edits(y.home, y_ids, 50 + random() % 150, "y-" + suffix, random, last);
    made_y += from_y;
    REQUIRE(y.sync().at("accepted") == from_y);
    made_x += make_remarks_edits(x.home, x_ids, 50 + random() % 350, "x-" + suffix, random, last);
    auto pending = x.status().at("pending").get<std::uint64_t>();

    auto window = std::min<std::chrono::microseconds>(
        3s, std::chrono::duration_cast<std::chrono::microseconds>(
                per_change * static_cast<long>(pending + from_y) * 3 / 2 + 100ms));
    auto delay = window * static_cast<long>(random() % 1000) / 1000;
    auto log = dir / ("sync-" + suffix + ".log");
    auto child = ChildProcess::spawn(x.sync_argv(), log);
    std::this_thread::sleep_for(delay);
    auto status = child.kill_and_wait(SIGKILL);
    INFO("killed after " << delay.count() << " µs; " << pending << " to push, " << from_y
                         << " to pull; its output: " << read_file(log));
    if (status.exited) {
      CHECK(status.code == 0);  // it finished first
      ++finished_first;
    } else {
      CHECK(status.signal == SIGKILL);
    }
    require_home_intact(x);
    CHECK(last_device_seq(x.home) == made_x);

    auto again = x.sync();
    CHECK(again.at("rejected") == 0);
    CHECK(again.at("conflicts") == 0);
    CHECK(again.at("digest") == server.verify().at("digest"));
    CHECK(x.status().at("pending") == 0);
    CHECK(server.high_water_mark(x.token) == made_x);
  }
  UNSCOPED_INFO(finished_first << " of " << kRounds << " syncs finished before the kill");

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
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto programme = planning.run_json({"list", "--json"});
  auto digest = server.verify().at("digest");

  auto timed = server.add_client("timed", "directorate", "DTE");
  auto start = Clock::now();
  REQUIRE(timed.sync().at("bootstrapped") == true);
  auto bootstrap = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);

  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    auto c = server.add_client("new-" + std::to_string(round), "directorate",
                               round % 2 ? "DTE" : "DPOL");
    auto delay = bootstrap * 3 / 2 * static_cast<long>(random() % 1000) / 1000;
    auto log = dir / ("bootstrap-" + std::to_string(round) + ".log");
    auto child = ChildProcess::spawn(c.sync_argv(), log);
    std::this_thread::sleep_for(delay);
    auto status = child.kill_and_wait(SIGKILL);
    INFO("killed after " << delay.count() << " µs; its output: " << read_file(log));
    CHECK((status.exited ? status.code == 0 : status.signal == SIGKILL));
    require_home_intact(c);
    auto again = c.sync();
    CHECK(again.at("digest") == digest);
    CHECK(again.at("cursor") == 20);
    CHECK(c.run_json({"list", "--json"}) == programme);
    CHECK(c.status().at("role") == "directorate");
    CHECK(c.status().at("directorate") == c.directorate);
  }
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

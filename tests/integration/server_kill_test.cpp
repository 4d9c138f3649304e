// ergond is killed with SIGKILL at random moments while a client pushes a large backlog, then
// restarted on the same data folder at a new address. The promise (DESIGN.md, "Durable before
// acknowledged"): nothing is lost, nothing is applied twice, and the next sync converges.
// Seeded; ERGON_INTEGRATION_SEED=N replays a run.

#include <chrono>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("ergond killed at random moments of many pushes loses and duplicates nothing",
          "[integration]") {
  constexpr int kRounds = 20;
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto dte = server.add_client("dte", "directorate", "DTE");
  REQUIRE(dte.sync().at("bootstrapped") == true);
  auto ids = dte.proposal_ids("DTE");
  REQUIRE(ids.size() == 15);
  std::map<std::string, std::string> last;  // proposal → the remarks of its last edit

  // Calibration: how long a sync takes per pushed change here (Debug build, loaded machine).
  std::size_t made = make_remarks_edits(dte.home, ids, 300, "c", random, last);
  auto start = Clock::now();
  REQUIRE(dte.sync().at("accepted") == 300);
  auto per_change = (Clock::now() - start) / 300;

  // The backlog: 1100 changes to begin with (three batches of 500), more every round.
  made += make_remarks_edits(dte.home, ids, 1100, "b", random, last);
  std::map<int, int> exits;
  std::size_t duplicates = 0;
  std::uint64_t durable = server.high_water_mark(dte.token);
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    made += make_remarks_edits(dte.home, ids, 20 + random() % 200, "r" + std::to_string(round),
                               random, last);
    // Decisions come back in sequence order, so the pending changes are the last ones made.
    auto pending = dte.status().at("pending").get<std::uint64_t>();
    REQUIRE(pending > 0);
    auto first_pending = made - pending + 1;

    // Anywhere from before the client connects to well after it is done (an interrupted sync
    // sends again what it sent: outcomes leave the outbox only when pulled).
    auto window = std::min<std::chrono::microseconds>(
        4s, std::chrono::duration_cast<std::chrono::microseconds>(
                2 * per_change * static_cast<long>(pending) + 200ms));
    auto delay = window * static_cast<long>(random() % 1000) / 1000;
    auto log = dir / ("sync-" + std::to_string(round) + ".log");
    auto client = ChildProcess::spawn(dte.sync_argv(), log);
    std::this_thread::sleep_for(delay);
    server.kill9();
    auto [status, hung] = wait_or_kill(client, 60s);
    auto output = read_file(log);
    INFO("killed after " << delay.count() << " µs; " << pending
                         << " pending; sync output: " << output);
    CHECK_FALSE(hung);
    int code = status.exited ? status.code : 128 + status.signal;
    ++exits[code];
    // Finished before the kill (0), or cut off (4): never another failure, never a crash.
    CHECK((code == 0 || code == 4));
    if (code == 0) duplicates += json_in(output).at("duplicates").get<std::size_t>();

    // Durable before acknowledged: every batch the client heard back about ("sent K / N") is
    // on the server after the kill, and the mark never moves back.
    std::uint64_t acknowledged = code == 0 ? made : 0;
    static const std::regex sent(R"(sent (\d+) / (\d+) changes)");
    for (auto it = std::sregex_iterator(output.begin(), output.end(), sent);
         it != std::sregex_iterator(); ++it)
      acknowledged =
          std::max<std::uint64_t>(acknowledged, first_pending - 1 + std::stoull((*it)[1].str()));
    auto mark = server.high_water_mark(dte.token);
    CHECK(mark >= acknowledged);
    CHECK(mark >= durable);
    CHECK(mark <= made);
    durable = mark;
    auto verified = server.verify();  // the chain survived the kill
    CHECK(verified.at("rows").get<std::uint64_t>() == 20 + mark);

    // The server comes back on the same folder at a new port; re-pointing keeps every edit.
    server.start();
    auto before = dte.status();
    server.repoint(dte);
    auto after = dte.status();
    CHECK(after.at("pending") == before.at("pending"));
    CHECK(after.at("changes") == before.at("changes"));
    CHECK(after.at("server") == server.address());
    for (const auto* key : {"device_id", "directorate", "user", "year", "role"})
      CHECK(after.at(key) == before.at(key));
    CHECK(last_device_seq(dte.home) == made);
  }
  UNSCOPED_INFO("exit codes of the killed syncs: 0 ×" << exits[0] << ", 4 ×" << exits[4]);

  // Catch up, twice: the second has nothing to do.
  auto caught_up = dte.sync();
  duplicates += caught_up.at("duplicates").get<std::size_t>();
  CHECK(caught_up.at("rejected") == 0);
  CHECK(caught_up.at("conflicts") == 0);
  auto idle = dte.sync();
  CHECK(idle.at("sent") == 0);
  UNSCOPED_INFO("changes the server had already when re-sent: " << duplicates);

  // Nothing applied twice: one log row per change, and the server's mark is the client's last.
  auto status = dte.status();
  CHECK(status.at("pending") == 0);
  CHECK(status.at("rejected") == 0);
  CHECK(server.high_water_mark(dte.token) == made);
  CHECK(last_device_seq(dte.home) == made);
  auto verified = server.verify();
  CHECK(verified.at("rows").get<std::uint64_t>() == 20 + made);

  // Nothing lost: a client that bootstraps now sees every proposal's last remarks.
  auto fresh = server.add_client("fresh", "directorate", "DTE");
  auto first = fresh.sync();
  CHECK(first.at("bootstrapped") == true);
  for (const auto& [id, remarks] : last) {
    INFO(id);
    CHECK(fresh.run_json({"show", id, "--json"}).at("remarks") == remarks);
    CHECK(dte.run_json({"show", id, "--json"}).at("remarks") == remarks);
  }
  CHECK(first.at("digest") == verified.at("digest"));
  CHECK(idle.at("digest") == verified.at("digest"));
  server.repoint(planning);
  CHECK(planning.sync().at("digest") == verified.at("digest"));
  CHECK(fresh.run_json({"list", "--json"}) == dte.run_json({"list", "--json"}));
}

TEST_CASE("ergond killed while two clients push at once keeps every acknowledged batch",
          "[integration]") {
  constexpr int kRounds = 8;
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  struct Pusher {
    Client client;
    std::vector<std::string> ids;
    std::uint64_t made = 0, durable = 0;
  };
  std::vector<Pusher> pushers{{server.add_client("dte-a", "directorate", "DTE"), {}},
                              {server.add_client("dte-b", "directorate", "DTE"), {}}};
  for (auto& p : pushers) p.client.sync();
  // Disjoint proposals: no conflicts, so every last value is known.
  auto ids = pushers[0].client.proposal_ids("DTE");
  REQUIRE(ids.size() == 15);
  pushers[0].ids.assign(ids.begin(), ids.begin() + 8);
  pushers[1].ids.assign(ids.begin() + 8, ids.end());
  std::map<std::string, std::string> last;

  auto start = Clock::now();
  for (auto& p : pushers) {
    p.made = make_remarks_edits(p.client.home, p.ids, 200, "c", random, last);
    REQUIRE(p.client.sync().at("accepted") == 200);
    p.durable = p.made;
  }
  auto per_change = (Clock::now() - start) / 400;

  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    std::uint64_t total_pending = 0;
    std::vector<std::uint64_t> first_pending;
    for (auto& p : pushers) {
      p.made += make_remarks_edits(p.client.home, p.ids, 100 + random() % 400,
                                   "r" + std::to_string(round), random, last);
      auto pending = p.client.status().at("pending").get<std::uint64_t>();
      first_pending.push_back(p.made - pending + 1);
      total_pending += pending;
    }
    auto window = std::min<std::chrono::microseconds>(
        2500ms, std::chrono::duration_cast<std::chrono::microseconds>(
                    per_change * static_cast<long>(total_pending) * 3 / 2 + 100ms));
    auto delay = window * static_cast<long>(random() % 1000) / 1000;
    std::vector<ChildProcess> children;
    for (std::size_t i = 0; i < pushers.size(); ++i)
      children.push_back(ChildProcess::spawn(
          pushers[i].client.sync_argv(),
          dir / ("sync-" + std::to_string(round) + "-" + std::to_string(i) + ".log")));
    std::this_thread::sleep_for(delay);
    server.kill9();
    for (std::size_t i = 0; i < pushers.size(); ++i) {
      auto& p = pushers[i];
      auto [status, hung] = wait_or_kill(children[i], 60s);
      auto output =
          read_file(dir / ("sync-" + std::to_string(round) + "-" + std::to_string(i) + ".log"));
      INFO(p.client.home.filename().string()
           << " killed after " << delay.count() << " µs; its output: " << output);
      CHECK_FALSE(hung);
      CHECK((status.exited && (status.code == 0 || status.code == 4)));
      std::uint64_t acknowledged = status.ok() ? p.made : 0;
      static const std::regex sent(R"(sent (\d+) / (\d+) changes)");
      for (auto it = std::sregex_iterator(output.begin(), output.end(), sent);
           it != std::sregex_iterator(); ++it)
        acknowledged = std::max<std::uint64_t>(acknowledged,
                                               first_pending[i] - 1 + std::stoull((*it)[1].str()));
      auto mark = server.high_water_mark(p.client.token);
      CHECK(mark >= acknowledged);
      CHECK(mark >= p.durable);
      CHECK(mark <= p.made);
      p.durable = mark;
    }
    CHECK(server.verify().at("rows").get<std::uint64_t>() ==
          20 + pushers[0].durable + pushers[1].durable);
    server.start();
    for (auto& p : pushers) server.repoint(p.client);
  }

  for (auto& p : pushers) {
    auto report = p.client.sync();
    CHECK(report.at("rejected") == 0);
    CHECK(report.at("conflicts") == 0);
  }
  auto verified = server.verify();
  CHECK(verified.at("rows").get<std::uint64_t>() == 20 + pushers[0].made + pushers[1].made);
  auto fresh = server.add_client("fresh", "auditor", "");
  CHECK(fresh.sync().at("digest") == verified.at("digest"));
  for (auto& p : pushers) {
    CHECK(server.high_water_mark(p.client.token) == p.made);
    CHECK(p.client.sync().at("digest") == verified.at("digest"));
    CHECK(p.client.status().at("pending") == 0);
  }
  for (const auto& [id, remarks] : last) {
    INFO(id);
    CHECK(fresh.run_json({"show", id, "--json"}).at("remarks") == remarks);
  }
}

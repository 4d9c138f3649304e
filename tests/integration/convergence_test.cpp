// Real `ergond` over TLS and real `ergon` homes: offline edits by several directorates converge
// to one state digest; a concurrent money edit is parked as the same conflict on every client;
// a directorate's edit of another directorate's proposal comes back rejected with the reason.

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// The client's view of one proposal (`ergon show ID --json`).
json show(const Client& client, const std::string& id) {
  return client.run_json({"show", id, "--json"});
}

// The id of the sample's proposal with this ΚΑ code.
std::string id_by_ka(const Client& client, const std::string& ka_code) {
  for (const auto& p : client.run_json({"list", "--json"}))
    if (p.at("ka_code") == ka_code) return p.at("id");
  FAIL("no proposal with ΚΑ " << ka_code);
  return {};
}

std::string pick(std::mt19937_64& random, const std::vector<std::string>& from) {
  return from[random() % from.size()];
}

}  // namespace

TEST_CASE("directorate clients editing offline over TLS converge to one digest", "[integration]") {
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto programme_digest = planning.sync().at("digest");

  // Three directorate clients (two of them DTE), then planning, which edits any proposal.
  std::vector<Client> clients{server.add_client("dte-1", "directorate", "DTE"),
                              server.add_client("dte-2", "directorate", "DTE"),
                              server.add_client("dpol", "directorate", "DPOL")};
  for (const auto& c : clients) {
    auto first = c.sync();
    CHECK(first.at("bootstrapped") == true);
    CHECK(first.at("digest") == programme_digest);
    CHECK(c.run_json({"list", "--json"}).size() == 20);
  }
  clients.push_back(planning);

  // Three times: every client edits at random while offline (directorates their own
  // proposals), then all sync in a random order. Allocations stay far below total − paid of
  // every row (the smallest is 45.000,00), funded by 1099 alone. Directorates also submit.
  const std::vector<std::string> allocations{"5.000,00", "10.000,00", "20.000,00", "30.000,00"};
  const std::vector<std::string> priorities{"A", "B", "C"};
  const std::vector<std::string> words{"μελέτη",         "Ηράκλειο", "ΕΣΠΑ",
                                       "χρονοδιάγραμμα", "σύμβαση",  "ΠΔΕ"};
  std::vector<std::size_t> order{0, 1, 2, 3};
  std::size_t conflicts = 0, submitted = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (std::size_t ci = 0; ci < clients.size(); ++ci) {
      const auto& c = clients[ci];
      INFO(c.home.filename().string() << " epoch " << epoch);
      auto own =
          c.run_json(c.directorate.empty() ? std::vector<std::string>{"list", "--json"}
                                           : std::vector<std::string>{
                                                 "list", "--json", "--directorate", c.directorate});
      REQUIRE(!own.empty());
      int edits = 3 + static_cast<int>(random() % 6);
      for (int e = 0; e < edits; ++e) {
        auto& p = own[random() % own.size()];
        std::string id = p.at("id");
        std::vector<std::string> args{"edit", id};
        switch (random() % 4) {
          case 0:
            args.push_back("remarks=" + pick(random, words) + " " + pick(random, words) + " " +
                           std::to_string(random() % 1000));
            break;
          case 1:
            args.push_back("priority=" + pick(random, priorities));
            break;
          case 2:
            args.push_back("allocation=" + pick(random, allocations));
            args.push_back("funding=1099");
            break;
          default:
            if (c.directorate.empty() || p.at("state") != "draft") continue;
            args = {"submit", id};
            p["state"] = "submitted";
            ++submitted;
            break;
        }
        auto edited = c.run(args);
        INFO(args[0] << " " << args.back() << ": " << edited.err);
        REQUIRE(edited.status.ok());
      }
      if (epoch == 0 && !c.directorate.empty()) {  // and one new proposal each
        auto ka = (c.directorate == "DPOL" ? "40-7412.05" : "30-7323.05") + std::to_string(ci);
        auto added = c.run({"add", "title=Νέα πρόταση " + c.home.filename().string(),
                            std::string("category=") + (c.directorate == "DPOL" ? "study" : "work"),
                            "ka_code=" + ka, "area=HER-CITY", "total_budget=100.000,00",
                            "allocation=" + pick(random, allocations), "funding=1099",
                            "new_or_continuing=new", "status=maturing",
                            "priority=" + pick(random, priorities)});
        INFO(added.err);
        REQUIRE(added.status.ok());
      }
    }
    std::shuffle(order.begin(), order.end(), random);
    for (auto i : order) {
      auto pending = clients[i].status().at("pending").get<std::size_t>();
      auto report = clients[i].sync();
      CHECK(report.at("sent") == pending);
      CHECK(report.at("rejected") == 0);
      conflicts += report.at("conflicts").get<std::size_t>();
    }
  }
  // Then everyone syncs twice more, with nothing left to send.
  for (int round = 0; round < 2; ++round) {
    std::shuffle(order.begin(), order.end(), random);
    for (auto i : order) CHECK(clients[i].sync().at("sent") == 0);
  }
  std::uint64_t made = 0;
  for (const auto& c : clients) made += last_device_seq(c.home);
  UNSCOPED_INFO("conflicts parked: " << conflicts << "; submits: " << submitted);

  auto verified = server.verify();
  auto digest = verified.at("digest");
  auto planning_view = planning.run_json({"list", "--json"});
  CHECK(planning_view.size() == 23);
  auto open_conflicts = planning.run_json({"conflicts", "--json"});
  CHECK(open_conflicts.size() <= conflicts);
  CHECK(open_conflicts.empty() == (conflicts == 0));
  for (const auto& c : clients) {
    INFO(c.home.filename().string());
    auto report = c.sync();
    CHECK(report.at("sent") == 0);
    CHECK(report.at("digest") == digest);
    CHECK(c.run_json({"conflicts", "--json"}) == open_conflicts);
    auto status = c.status();
    CHECK(status.at("pending") == 0);
    CHECK(status.at("rejected") == 0);
    CHECK(status.at("last_error").is_null());
    CHECK(c.run_json({"list", "--json"}) == planning_view);
    CHECK(server.high_water_mark(c.token) == last_device_seq(c.home));
  }
  // One log row per change ever made, none twice.
  CHECK(verified.at("rows").get<std::uint64_t>() == made);
}

TEST_CASE("a concurrent money edit is parked as the same conflict on both clients",
          "[integration]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto first = server.add_client("dte-first", "directorate", "DTE");
  auto second = server.add_client("dte-second", "directorate", "DTE");
  first.sync();
  second.sync();

  // 30-7323.015: total 1.500.000,00, nothing paid, 1.500.000,00 from 1005.
  auto id = id_by_ka(first, "30-7323.015");
  REQUIRE(first.run({"edit", id, "allocation=100.000,00", "funding=1099"}).status.ok());
  REQUIRE(second.run({"edit", id, "allocation=200.000,00", "funding=0518"}).status.ok());

  auto accepted = first.sync();
  CHECK(accepted.at("accepted") == 1);
  CHECK(accepted.at("conflicts") == 0);
  auto parked = second.sync();
  CHECK(parked.at("sent") == 1);
  CHECK(parked.at("accepted") == 0);
  CHECK(parked.at("conflicts") == 1);
  auto again = first.sync();
  CHECK(again.at("digest") == parked.at("digest"));
  CHECK(planning.sync().at("digest") == parked.at("digest"));

  auto seen_by_first = first.run_json({"conflicts", "--json"});
  auto seen_by_second = second.run_json({"conflicts", "--json"});
  auto seen_by_planning = planning.run_json({"conflicts", "--json"});
  REQUIRE(seen_by_first.size() == 1);
  REQUIRE(seen_by_second.size() == 1);
  REQUIRE(seen_by_planning.size() == 1);
  const auto& c = seen_by_first[0];
  CHECK(c.at("proposal") == id);
  CHECK(c.at("group") == "money");
  CHECK(seen_by_second[0].at("id") == c.at("id"));
  CHECK(seen_by_second[0].at("master") == c.at("master"));
  CHECK(seen_by_second[0].at("incoming") == c.at("incoming"));
  CHECK(seen_by_planning[0] == c);
  // The master kept the first edit; the second is the one parked.
  UNSCOPED_INFO("conflict: " << c.dump());
  REQUIRE(c.at("incoming").size() == 1);
  CHECK(c.at("incoming")[0].at("device_id") == second.status().at("device_id"));
  // Money in cents and funding as source/amount lines, as everywhere in --json.
  CHECK(c.at("master").at("allocation") == 10'000'000);
  CHECK(c.at("master").at("funding").at(0).at("source") == "1099");
  CHECK(c.at("master").at("funding").at(0).at("amount") == 10'000'000);
  CHECK(c.at("incoming")[0].at("values").at("allocation") == 20'000'000);
  CHECK(c.at("incoming")[0].at("values").at("funding").at(0).at("source") == "0518");
  CHECK(c.at("incoming")[0].at("change_id") ==
        second.status().at("device_id").get<std::string>() + ":1");
  // Both views show the master's money; the parked change is no longer pending.
  CHECK(show(first, id).at("allocation") == 10'000'000);
  CHECK(show(second, id).at("allocation") == 10'000'000);
  CHECK(second.status().at("pending") == 0);
}

TEST_CASE("a directorate's edit of another directorate's proposal is refused, offline or online",
          "[integration]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto dpol = server.add_client("dpol", "directorate", "DPOL");
  auto dte = server.add_client("dte", "directorate", "DTE");
  dpol.sync();
  dte.sync();

  // 30-7321.001 belongs to DTE. DPOL's client knows the rule the server applies: refused
  // offline, with the server's reason, and nothing is queued.
  auto id = id_by_ka(dpol, "30-7321.001");
  auto original = show(dte, id).at("remarks");
  auto foreign = dpol.run({"edit", id, "remarks=Αλλαγή από τη ΔΠΟΛ"});
  CHECK_FALSE(foreign.status.ok());
  CHECK_THAT(foreign.err, Catch::Contains("belongs to DTE"));
  CHECK(dpol.status().at("pending") == 0);

  // DTE edits its own row offline while planning moves the row to DPOL: the server, which sees
  // the move first, rejects DTE's edit with the reason.
  auto edited = dte.run({"edit", id, "remarks=Αλλαγή της ΔΤΕ"});
  INFO(edited.err);
  REQUIRE(edited.status.ok());
  auto moved = planning.run({"edit", id, "directorate=DPOL"});
  INFO(moved.err);
  REQUIRE(moved.status.ok());
  planning.sync();

  auto report = dte.sync();
  CHECK(report.at("sent") == 1);
  CHECK(report.at("rejected") == 1);
  CHECK(report.at("accepted") == 0);
  auto status = dte.status();
  CHECK(status.at("pending") == 0);
  CHECK(status.at("rejected") == 1);
  REQUIRE(status.at("changes").size() == 1);
  const auto& change = status.at("changes")[0];
  CHECK(change.at("status") == "rejected");
  CHECK(change.at("entity") == id);
  CHECK(change.at("group") == "remarks");
  CHECK_THAT(change.at("reason").get<std::string>(), Catch::Contains("belongs to DPOL"));
  // The remarks changed nowhere: the master, the new owner's view, the refused client's view.
  CHECK(report.at("digest") == planning.sync().at("digest"));
  dpol.sync();
  CHECK(show(dpol, id).at("remarks") == original);
  CHECK(show(dte, id).at("remarks") == original);
  CHECK(show(dte, id).at("directorate") == "DPOL");

  // Dismissed, it leaves the list; its number stays used.
  auto dismissed = dte.run({"dismiss", std::to_string(change.at("seq").get<std::uint64_t>())});
  INFO(dismissed.err);
  CHECK(dismissed.status.ok());
  CHECK(dte.status().at("rejected") == 0);
  CHECK(dte.sync().at("sent") == 0);
  CHECK(server.high_water_mark(dte.token) == 1);
}

// The next year through the real `ergond` and `ergon`: `year start 2025` carries exactly the
// included, unfinished works and studies of 2024 (checked against the rule applied here to
// what the client lists), with predecessor, ΚΑ, total and paid-to-date; a retry carries
// nothing more; a continuing work missing from 2025 is a flag that blocks its stages; 2024
// stays open beside it; only planning starts a year, and only the next one.

#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// The rule, applied here: included works and studies that are not completed or removed.
std::set<std::string> expected_carried(const json& listed) {
  std::set<std::string> out;
  for (const auto& p : listed) {
    auto category = p.at("category").get<std::string>();
    auto status = p.at("status").get<std::string>();
    if (p.at("year") == 2024 && p.at("state") == "included" &&
        (category == "work" || category == "study") && status != "completed" && status != "removed")
      out.insert(p.at("id").get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("year start carries the continuing works, once, and flags one that goes missing",
          "[integration][year]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto ids = planning.proposal_ids("DTE");
  REQUIRE(ids.size() >= 6u);
  // Decide: four included (one of them then completed), one rejected; the rest stay drafts.
  ok(planning, {"decide", ids[0].substr(0, 8), ids[1].substr(0, 8), ids[2].substr(0, 8),
                ids[3].substr(0, 8), "included"});
  ok(planning, {"decide", ids[4].substr(0, 8), "rejected", "--reason", "Εκτός στρατηγικής"});
  ok(planning, {"edit", ids[3].substr(0, 8), "status=completed"});
  planning.sync();
  auto listed_2024 = planning.run_json({"list", "--json"});
  auto expected = expected_carried(listed_2024);
  REQUIRE(expected.size() == 3u);

  auto dte = server.add_client("dte", "directorate", "DTE");
  dte.sync();
  CHECK(dte.run({"year", "start", "2025"}).exit_code() == 3);

  auto started = planning.run_json({"year", "start", "2025", "--json"});
  CHECK(started.at("already_open") == false);
  CHECK(started.at("stage") == "proposals");
  std::set<std::string> carried_ids;
  for (const auto& id : started.at("carried")) carried_ids.insert(id.get<std::string>());
  CHECK(carried_ids.size() == expected.size());
  planning.sync();
  auto listed = planning.run_json({"list", "--year", "2025", "--json"});
  std::set<std::string> predecessors;
  for (const auto& p : listed) {
    REQUIRE(p.at("predecessor_id").is_string());
    auto before = std::find_if(listed_2024.begin(), listed_2024.end(),
                               [&](const json& q) { return q.at("id") == p.at("predecessor_id"); });
    REQUIRE(before != listed_2024.end());
    predecessors.insert(p.at("predecessor_id").get<std::string>());
    CHECK(p.at("new_or_continuing") == "continuing");
    CHECK(p.at("state") == "draft");
    CHECK(p.at("allocation") == 0);
    CHECK(p.at("ka_code") == before->at("ka_code"));
    CHECK(p.at("total_budget") == before->at("total_budget"));
    CHECK(p.at("paid_to_date") == before->at("paid_to_date"));
    CHECK(p.at("title") == before->at("title"));
  }
  CHECK(predecessors == expected);

  auto again = planning.run_json({"year", "start", "2025", "--json"});
  CHECK(again.at("already_open") == true);
  CHECK(again.at("carried").empty());
  CHECK(again.at("carried_before") == expected.size());

  // One carried draft withdrawn: its continuing work is missing, a flag that blocks stages.
  auto dropped = *carried_ids.begin();
  ok(planning, {"withdraw", dropped.substr(0, 8)});
  planning.sync();
  auto flags = planning.run_json({"flags", "--year", "2025", "--json"});
  REQUIRE(flags.size() == 1u);
  CHECK_THAT(flags[0].at("id").get<std::string>(), Catch::StartsWith("continuing:2025:"));
  auto blocked = planning.run({"stage", "advance", "draft", "--year", "2025"});
  CHECK(blocked.exit_code() == 3);
  CHECK_THAT(blocked.err, Catch::Contains("continuing:2025:"));

  // 2024 is still open beside 2025: its proposals can still be changed.
  ok(planning, {"edit", ids[5].substr(0, 8), "remarks=Αλλαγή μετά το 2025"});
  auto sent = planning.sync();
  CHECK(sent.at("accepted") == 1);
  // Only the next year opens, and only one listed in the reference data.
  auto skipped = planning.run({"year", "start", "2027"});
  CHECK(skipped.exit_code() == 3);
  CHECK_THAT(skipped.err, Catch::Contains("the next programme to start is 2026"));
  auto unknown = planning.run({"year", "start", "2026"});
  CHECK(unknown.exit_code() == 3);
  CHECK_THAT(unknown.err, Catch::Contains("years.csv"));
}

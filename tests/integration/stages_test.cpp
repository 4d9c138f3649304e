// The programme's stages through the real `ergond` and `ergon` over TLS: a generated series of
// edits between the draft and the approval, `ergon diff draft approved --json` checked against
// the same comparison computed here from what the client listed at each stage, `show --as-of`
// equal to the frozen row, stage refusals with exit 3, and the lock after approval.

#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

std::map<std::string, json> by_id(const json& listed) {
  std::map<std::string, json> out;
  for (const auto& p : listed) out[p.at("id")] = p;
  return out;
}

// The programme proper: what planning included (#27: one definition of "allocated").
bool in_programme(const json& p) { return p.at("state") == "included"; }

// Allocated cents per funding source of what is in the programme: computed here, not by Ergon.
std::map<std::string, std::int64_t> per_source(const std::map<std::string, json>& rows) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [id, p] : rows)
    if (in_programme(p))
      for (const auto& line : p.at("funding"))
        out[line.at("source")] += line.at("amount").get<std::int64_t>();
  return out;
}

std::set<std::string> ids_of(const json& rows) {
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(r.at("id"));
  return out;
}

// Edits between the stages, from a seed: money moved, remarks, two works deferred and new works.
void generate_edits(const Client& planning, const std::vector<std::string>& ids,
                    std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> pool = ids;
  std::shuffle(pool.begin(), pool.end(), rng);
  for (std::size_t i = 0; i < 4; ++i)
    ok(planning, {"edit", pool[i].substr(0, 8),
                  // Below every sample row's total minus paid (the smallest is 45.000,00).
                  "allocation=" + std::to_string(10'000 + rng() % 35'000) + ",00", "funding=0518"});
  for (std::size_t i = 4; i < 7; ++i)
    ok(planning,
       {"edit", pool[i].substr(0, 8), "remarks=Σημείωση " + std::to_string(rng() % 1000)});
  for (std::size_t i = 7; i < 9; ++i)
    ok(planning, {"decide", pool[i].substr(0, 8), "deferred", "--reason", "Στο επόμενο έτος"});
  for (int i = 0; i < 2; ++i)
    ok(planning,
       {"add", "title=Νέο έργο μετά το προσχέδιο " + std::to_string(i), "category=work",
        "area=HER-CITY", "total_budget=200.000,00", "allocation=50.000,00", "funding=1099",
        "new_or_continuing=new", "status=maturing", "priority=C", "directorate=DTE"});
  planning.sync();
}

}  // namespace

TEST_CASE("stages over the wire: diff against an independent count, as-of, refusals, locks",
          "[integration][stages]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto dte = server.add_client("dte", "directorate", "DTE");
  dte.sync();

  auto refused = dte.run({"stage", "advance", "draft"});
  CHECK(refused.exit_code() == 3);
  CHECK_THAT(refused.err, Catch::Contains("only planning"));
  auto early =
      planning.run({"stage", "advance", "approved", "--decision", "1", "--date", "2024-03-01"});
  CHECK(early.exit_code() == 3);
  CHECK_THAT(early.err, Catch::Contains("'proposals'"));

  // Undecided proposals keep the draft from being frozen (exit 3, how many, what to do).
  auto undecided = planning.run({"stage", "advance", "draft"});
  CHECK(undecided.exit_code() == 3);
  CHECK_THAT(undecided.err, Catch::Contains("20 proposals are still undecided") &&
                                Catch::Contains("ergon decide"));
  decide_undecided(planning);
  auto draft = planning.run_json({"stage", "advance", "draft", "--json"});
  CHECK(draft.at("stage") == "draft-1");
  auto draft_table = planning.run({"report", "--as-of", "draft", "--all"});
  REQUIRE(draft_table.status.ok());
  auto at_draft = by_id(planning.run_json({"list", "--json"}));
  CHECK(draft.at("proposals") == at_draft.size());

  auto seed = test_seed();
  INFO("seed " << seed);
  std::vector<std::string> ids;
  for (const auto& [id, p] : at_draft) ids.push_back(id);
  generate_edits(planning, ids, seed);
  ok(planning, {"stage", "advance", "consultation"});
  auto no_number = planning.run({"stage", "advance", "committee"});
  CHECK(no_number.exit_code() == 3);
  CHECK_THAT(no_number.err, Catch::Contains("--decision NO/YEAR --date DD/MM/YYYY"));
  ok(planning, {"stage", "advance", "committee", "--decision", "45/2024", "--date", "2024-02-20"});
  ok(planning, {"stage", "advance", "approved", "--decision", "101/2024", "--date", "2024-03-01",
                "--ada", "6ΞΥ4ΩΗΓ-1ΑΒ"});
  auto at_approval = by_id(planning.run_json({"list", "--json"}));

  auto diff = planning.run_json({"diff", "draft", "approved", "--json"});
  CHECK(diff.at("from") == "draft-1");
  CHECK(diff.at("to") == "approved");
  std::set<std::string> added, removed, changed;
  for (const auto& [id, p] : at_approval)
    if (!at_draft.contains(id))
      added.insert(id);
    else if (at_draft.at(id) != p)
      changed.insert(id);
  for (const auto& [id, p] : at_draft)
    if (!at_approval.contains(id)) removed.insert(id);
  CHECK(added.size() == 2u);
  CHECK(changed.size() == 9u);
  CHECK(ids_of(diff.at("added")) == added);
  CHECK(ids_of(diff.at("removed")) == removed);
  CHECK(ids_of(diff.at("changed")) == changed);
  auto before = per_source(at_draft);
  auto after = per_source(at_approval);
  std::set<std::string> sources;
  for (const auto& [s, cents] : before) sources.insert(s);
  for (const auto& [s, cents] : after) sources.insert(s);
  std::int64_t total_before = 0, total_after = 0;
  for (const auto& row : diff.at("sources")) {
    const std::string source = row.at("source");
    INFO("source " << source);
    CHECK(row.at("before") == (before.contains(source) ? before.at(source) : 0));
    CHECK(row.at("after") == (after.contains(source) ? after.at(source) : 0));
    total_before += row.at("before").get<std::int64_t>();
    total_after += row.at("after").get<std::int64_t>();
    sources.erase(source);
  }
  CHECK(sources.empty());  // every source either side funds is in the diff
  CHECK(diff.at("allocation").at("before") == total_before);
  CHECK(diff.at("allocation").at("after") == total_after);

  // The draft's table printed again after everything since is the same, byte for byte (#27).
  auto again = planning.run({"report", "--as-of", "draft", "--all"});
  CHECK(again.out == draft_table.out);

  // The row as the draft froze it, whatever happened since.
  for (const auto& id : changed) {
    auto then = planning.run_json({"show", id.substr(0, 8), "--as-of", "draft", "--json"});
    CHECK(then.at("as_of").at("point") == "draft-1");
    then.erase("as_of");
    auto expected = at_draft.at(id);
    for (const auto* mark : {"rejected_by_server", "conflicts"}) expected.erase(mark);
    CHECK(then == expected);
  }

  // Approved: a directorate's edit is rejected with the stage in the reason.
  auto open = dte.run_json({"list", "--json", "--directorate", "DTE", "--state", "draft"});
  REQUIRE_FALSE(open.empty());
  ok(dte, {"edit", open[0].at("id").get<std::string>().substr(0, 8), "remarks=μετά"});
  auto locked = dte.run({"sync", "--json"});
  CHECK(locked.exit_code() == 3);  // a script notices the rejection
  CHECK(parse_json(locked).at("rejected") == 1);
  CHECK_THAT(locked.err, Catch::Contains("1 change sent was rejected"));
  // Now that the client knows the stage, it refuses the same offline, in the server's words.
  auto offline =
      dte.run({"edit", open[0].at("id").get<std::string>().substr(0, 8), "remarks=ξανά"});
  CHECK(offline.exit_code() == 3);
  CHECK_THAT(offline.err, Catch::Contains("the programme is at stage 'approved'"));
  auto stages = planning.run_json({"stages", "--json"});
  REQUIRE(stages.size() == 1u);
  CHECK(stages[0].at("stage") == "approved");
  CHECK(stages[0].at("records").size() == 4u);
  CHECK(stages[0].at("records")[3].at("decision").at("ada") == "6ΞΥ4ΩΗΓ-1ΑΒ");
  CHECK(stages[0].at("records")[3].at("decision").at("date") == "2024-03-01");
  // People read one form of date and time, the municipality's; JSON keeps ISO 8601 (#27).
  auto printed = planning.run({"stages"});
  REQUIRE(printed.status.ok());
  CHECK_THAT(printed.out, Catch::Contains("της 01/03/2024") && !Catch::Contains("2024-03-01"));
  CHECK(std::regex_search(printed.out, std::regex(R"(\d\d/\d\d/\d{4} \d\d:\d\d)")));
  CHECK_THAT(stages[0].at("records")[3].at("at").get<std::string>(), Catch::EndsWith("Z"));
  CHECK(server.verify().at("ok") == true);
}

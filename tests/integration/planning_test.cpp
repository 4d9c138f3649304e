// The Department of Programming and the Budget Department through the real `ergond` and real
// `ergon` processes over TLS: a conflict settled and the resolution reaching every client,
// decisions, envelopes to the cent, a flag opened and acknowledged, and refusals with exit 3.

#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

std::string id_by_ka(const Client& client, const std::string& ka_code) {
  for (const auto& p : client.run_json({"list", "--json"}))
    if (p.at("ka_code") == ka_code) return p.at("id");
  FAIL("no proposal with ΚΑ " << ka_code);
  return {};
}

// Included allocations on `source` in 2024, summed here from what the client lists.
std::int64_t included_on(const Client& client, const std::string& source) {
  std::int64_t cents = 0;
  for (const auto& p : client.run_json({"list", "--json"}))
    if (p.at("state") == "included")
      for (const auto& line : p.at("funding"))
        if (line.at("source") == source) cents += line.at("amount").get<std::int64_t>();
  return cents;
}

}  // namespace

TEST_CASE("planning and budget over the wire: settle, decide, envelopes, flags", "[integration]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto dte = server.add_client("dte", "directorate", "DTE");
  auto budget = server.add_client("budget", "budget", "");
  dte.sync();
  budget.sync();
  auto park = id_by_ka(dte, "30-7321.001");

  // The years are the server's: once it has named 2024, a 2025 row is refused offline.
  auto later = dte.run({"import", sample_csv().string(), "--year", "2025"});
  CHECK(later.exit_code() == 3);
  CHECK_THAT(later.err, Catch::Contains("2025 is not open"));

  // A conflict: planning's money edit lands first, DTE's is parked; DTE settles it.
  ok(planning, {"edit", park, "allocation=2.000.000,00", "funding=AT06=2.000.000,00"});
  ok(dte, {"edit", park, "allocation=2.500.000,00", "funding=AT06=2.500.000,00"});
  planning.sync();
  auto parked = dte.sync();
  CHECK(parked.at("conflicts") == 1);
  CHECK(parked.at("new_conflicts") == 1);
  CHECK(dte.sync().at("new_conflicts") == 0);  // still open, no longer new
  auto conflicts = dte.run_json({"conflicts", "--json"});
  REQUIRE(conflicts.size() == 1u);
  CHECK(conflicts[0].at("master_set_by").at("user") == "Χρήστης planning");
  CHECK(dte.status().at("open_conflicts") == 1);
  // A home that bootstrapped since (the programme as a snapshot) names the master's setter too,
  // not "(no name)", and the proposal by its title (#27).
  {
    auto title = dte.run_json({"show", park, "--json"}).at("title").get<std::string>();
    auto auditor = server.add_client("auditor", "auditor", "");
    REQUIRE(auditor.sync().at("bootstrapped") == true);
    auto seen = auditor.run_json({"conflicts", "--json"});
    REQUIRE(seen.size() == 1u);
    CHECK(seen[0].at("master_set_by").at("user") == "Χρήστης planning");
    CHECK(seen[0].at("title") == title);
    auto printed = auditor.run({"conflicts"});
    CHECK_THAT(printed.out, Catch::Contains("«" + title + "»") &&
                                Catch::Contains("set by Χρήστης planning") &&
                                !Catch::Contains("(no name)"));
  }
  auto marked = dte.run_json({"show", park, "--json"}).at("conflicts");
  REQUIRE(marked.size() == 1u);
  CHECK(marked[0].at("group") == "money");
  CHECK_THAT(dte.run({"show", park}).out,
             Catch::Contains("in conflict " + conflicts[0].at("id").get<std::string>()));
  ok(dte, {"resolve", conflicts[0].at("id"), "--take", "incoming"});
  dte.sync();
  for (const auto* c : {&planning, &dte, &budget}) {
    c->sync();
    CHECK(c->run_json({"conflicts", "--json"}).empty());
    CHECK(c->run_json({"show", park, "--json"}).at("allocation") == 250'000'000);
  }

  // Decisions: planning's only; the directorate sees them after its next sync.
  auto denied = dte.run({"decide", park, "included"});
  CHECK(denied.exit_code() == 3);
  ok(planning, {"decide", park, "included"});
  planning.sync();
  dte.sync();
  CHECK(dte.run_json({"show", park, "--json"}).at("state") == "included");

  // Envelopes: budget's; the arithmetic to the cent, recomputed here.
  CHECK(dte.run({"envelope", "set", "AT06", "1,00", "--year", "2024"}).exit_code() == 3);
  ok(budget, {"envelope", "set", "AT06", "2.000.000,00", "--year", "2024"});
  budget.sync();
  planning.sync();
  auto uses = planning.run_json({"envelopes", "--year", "2024", "--json"});
  bool seen = false;
  for (const auto& u : uses) {
    if (u.at("source") != "AT06") {
      CHECK(u.at("envelope").is_null());  // no envelope: unlimited
      continue;
    }
    seen = true;
    CHECK(u.at("envelope") == 200'000'000);
    CHECK(u.at("allocated") == included_on(planning, "AT06"));
    CHECK(u.at("remaining") == 200'000'000 - included_on(planning, "AT06"));
  }
  CHECK(seen);

  // The over-committed source is a flag; planning acknowledges it; everyone sees who and why.
  auto flags = planning.run_json({"flags", "--year", "2024", "--json"});
  REQUIRE(flags.size() == 1u);
  CHECK(flags[0].at("id") == "envelope:2024:AT06");
  CHECK(flags[0].at("acknowledged").is_null());
  CHECK(dte.run({"flag", "ack", "envelope:2024:AT06", "--reason", "όχι"}).exit_code() == 3);
  ok(planning, {"flag", "ack", "envelope:2024:AT06", "--reason", "Χρηματοδότηση ΠΔΕ"});
  planning.sync();
  dte.sync();
  auto seen_by_dte = dte.run_json({"flags", "--year", "2024", "--json"});
  REQUIRE(seen_by_dte.size() == 1u);
  CHECK(seen_by_dte[0].at("acknowledged").at("reason") == "Χρηματοδότηση ΠΔΕ");
  auto report = dte.run({"report", "--year", "2024"});
  CHECK_THAT(report.out, Catch::Contains("⚑") && Catch::Contains("envelope:2024:AT06"));
  CHECK(server.verify().at("rows") > 0);
}

TEST_CASE("a rejected new proposal is kept, fixed and resent, or dismissed", "[integration]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  // Made offline before its first sync, for a year the server has not open: the client cannot
  // know yet, so the server is the one to reject them.
  Client early{dir.path() / "dte", "", "DTE"};
  ok(early, {"init", "--directorate", "DTE", "--year", "2025"});
  std::vector<std::string> ids;
  for (const char* title : {"Ανάπλαση πλατείας Αγίου Τίτου", "Φωτισμός πεζοδρόμου"}) {
    auto added =
        early.run({"add", std::string("title=") + title, "category=work", "area=HER-CITY",
                   "total_budget=100.000,00", "allocation=10.000,00", "funding=1005=10.000,00",
                   "new_or_continuing=new", "status=maturing", "priority=B"});
    INFO(added.err);
    REQUIRE(added.status.ok());
    ids.push_back(added.out.substr(0, added.out.find('\n')));
  }
  auto dte = server.add_client("dte", "directorate", "DTE");
  auto report = dte.sync();
  CHECK(report.at("rejected") == 2);
  CHECK(report.at("kept_rejected") == 2);

  // Kept, marked, with the reason; an edit is refused with the way out.
  for (const auto& id : ids) {
    auto shown = dte.run_json({"show", id, "--json"});
    CHECK(shown.at("rejected_by_server").at("reason").get<std::string>().find("2025") !=
          std::string::npos);
  }
  CHECK_THAT(dte.run({"show", ids[0]}).out, Catch::Contains("NOT ACCEPTED"));
  auto edit = dte.run({"edit", ids[0], "remarks=x"});
  CHECK(edit.exit_code() == 3);
  CHECK_THAT(edit.err, Catch::Contains("ergon resend"));

  // Fixed and resent: accepted, and planning sees everything that was typed.
  ok(dte, {"resend", ids[0], "year=2024", "remarks=Διορθώθηκε το έτος"});
  CHECK(dte.sync().at("accepted") == 1);
  CHECK(dte.run_json({"show", ids[0], "--json"}).at("rejected_by_server").is_null());
  planning.sync();
  auto seen = planning.run_json({"show", ids[0], "--json"});
  CHECK(seen.at("year") == 2024);
  CHECK(seen.at("title") == "Ανάπλαση πλατείας Αγίου Τίτου");
  CHECK(seen.at("remarks") == "Διορθώθηκε το έτος");

  // Dismissed: it says what it drops, and only then leaves the list.
  auto dropped = dte.run({"dismiss", ids[1]});
  INFO(dropped.err);
  REQUIRE(dropped.status.ok());
  CHECK_THAT(dropped.out, Catch::Contains("Φωτισμός πεζοδρόμου"));
  CHECK(dte.run({"show", ids[1]}).exit_code() != 0);
  CHECK(dte.status().at("rejected") == 0);
}

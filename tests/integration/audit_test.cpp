// The audit through the real `ergond` and `ergon` processes: a sequence of edits (scripted and
// random), conflicts, a resolution, a decision and a rejection appear in `ergon history`, in
// order, nothing missing and nothing extra, against a record the test keeps itself; and a log
// whose tail was cut on the server's disk fails `ergon audit verify` through the head a client
// holds.

#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/storage/database.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// What the test expects history to show for one change: its kind, who, a field and its value.
struct Expected {
  std::string kind, user, field;
  json value;
};

std::string id_by_ka(const Client& client, const std::string& ka_code) {
  for (const auto& p : client.run_json({"list", "--json"}))
    if (p.at("ka_code") == ka_code) return p.at("id");
  FAIL("no proposal with ΚΑ " << ka_code);
  return {};
}

}  // namespace

TEST_CASE("history shows every change of a proposal in order, nothing missing or extra",
          "[integration][audit]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto dte = server.add_client("dte", "directorate", "DTE");
  dte.sync();
  auto park = id_by_ka(dte, "30-7321.001");
  const std::string kPlanning = "Χρήστης planning", kDte = "Χρήστης dte";
  std::vector<Expected> record{{"create", kPlanning, "title", nullptr}};

  // Random edits, each synced before the next: all accepted, in the order made.
  std::mt19937 rng(20241128);
  for (int i = 0; i < 8; ++i) {
    bool by_planning = rng() % 2 == 0;
    const auto& who = by_planning ? planning : dte;
    std::string remarks = "Σημείωση " + std::to_string(i) + "." + std::to_string(rng() % 1000);
    who.sync();
    ok(who, {"edit", park, "remarks=" + remarks});
    who.sync();
    record.push_back({"edit", by_planning ? kPlanning : kDte, "remarks", remarks});
  }
  // A conflict, settled by the directorate.
  planning.sync();
  dte.sync();
  ok(planning, {"edit", park, "allocation=2.000.000,00", "funding=AT06=2.000.000,00"});
  ok(dte, {"edit", park, "allocation=2.500.000,00", "funding=AT06=2.500.000,00"});
  planning.sync();
  dte.sync();
  record.push_back({"edit", kPlanning, "allocation", 200'000'000});
  record.push_back({"conflict", kDte, "allocation", 250'000'000});
  auto conflicts = dte.run_json({"conflicts", "--json"});
  REQUIRE(conflicts.size() == 1u);
  ok(dte, {"resolve", conflicts[0].at("id"), "--take", "incoming"});
  dte.sync();
  record.push_back({"resolution", kDte, "allocation", 250'000'000});
  // A decision, and an edit made before the directorate heard of it: parked, not lost.
  planning.sync();
  ok(planning, {"decide", park, "included"});
  ok(dte, {"edit", park, "remarks=Μετά την απόφαση"});
  planning.sync();
  dte.sync();
  record.push_back({"decision", kPlanning, "state", "included"});
  record.push_back({"conflict", kDte, "remarks", "Μετά την απόφαση"});

  auto history = dte.run_json({"history", park, "--json"});
  REQUIRE(history.size() == record.size());
  for (std::size_t i = 0; i < record.size(); ++i) {
    INFO("event " << i << ": " << history[i].dump());
    const auto& e = history[i];
    CHECK(e.at("kind") == record[i].kind);
    CHECK(e.at("user") == record[i].user);
    CHECK(e.at("server_time").get<std::string>().ends_with("Z"));
    bool found = false;
    for (const auto& f : e.at("fields"))
      if (f.at("field") == record[i].field) {
        found = true;
        if (!record[i].value.is_null()) CHECK(f.at("new") == record[i].value);
      }
    CHECK(found);
    if (i > 0) CHECK(e.at("position") != history[i - 1].at("position"));
  }
  // The filters: a field, a device, a window.
  auto allocation = planning.run_json({"history", park, "--field", "allocation", "--json"});
  CHECK(allocation.size() == 4u);  // the create, planning's edit, the conflict, the resolution
  auto devices = server.devices();
  std::string dte_device;
  for (const auto& d : devices)
    if (d.at("directorate") == "DTE") dte_device = d.at("device_id");
  auto by_dte = planning.run_json({"history", park, "--device", dte_device.substr(0, 8), "--json"});
  for (const auto& e : by_dte) CHECK(e.at("user") == kDte);
  CHECK(planning.run_json({"history", park, "--since", "2999-01-01", "--json"}).empty());
  // A rejection: a new proposal made offline for a year the server has not open.
  Client early{dir.path() / "dpol", "", "DPOL"};
  ok(early, {"init", "--directorate", "DPOL", "--user", "Κώστας", "--year", "2025"});
  auto added = early.run({"add", "title=Μελέτη κυκλοφορίας", "category=study", "area=HER-CITY",
                          "total_budget=10.000,00", "allocation=10.000,00", "funding=1099",
                          "new_or_continuing=new", "status=maturing", "priority=B"});
  REQUIRE(added.status.ok());
  auto rejected_id = added.out.substr(0, added.out.find('\n'));
  early = server.add_client("dpol", "directorate", "DPOL");
  CHECK(early.sync().at("rejected") == 1);
  auto rejected = planning.run_json({"history", rejected_id, "--json"});
  REQUIRE(rejected.size() == 1u);
  CHECK(rejected[0].at("kind") == "rejected");
  CHECK(rejected[0].at("user") == "Κώστας");  // as stated when the change was made
  CHECK_THAT(rejected[0].at("reason").get<std::string>(), Catch::Contains("2025"));
  bool has_title = false;
  for (const auto& f : rejected[0].at("fields"))
    has_title = has_title || f.at("new") == "Μελέτη κυκλοφορίας";
  CHECK(has_title);  // what the directorate typed is in the audit, though the master never held it

  // The audit log for a Greek Excel: byte-order mark, ';', a row per field changed.
  auto csv = planning.run({"audit", "log", "--format", "csv"});
  REQUIRE(csv.status.ok());
  CHECK(csv.out.rfind("\xEF\xBB\xBF", 0) == 0);
  CHECK_THAT(csv.out, Catch::Contains("Μετά την απόφαση") && Catch::Contains(";conflict;") &&
                          Catch::Contains(";rejected;"));
}

TEST_CASE("a log cut short on the server's disk fails audit verify through a client's head",
          "[integration][audit]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto verified = planning.run_json({"audit", "verify", "--json"});
  CHECK(verified.at("ok") == true);
  CHECK(verified.at("head") == verified.at("held"));
  CHECK(planning.status().at("chain_head") == verified.at("held"));  // what status shows
  server.stop();
  {
    auto db = storage::Database::open(server.data() / "ergond.db", storage::Durability::kFull);
    REQUIRE(db);
    REQUIRE(
        db->exec("DROP TRIGGER log_is_append_only_delete; DELETE FROM log WHERE seq >= 19; "
                 "DELETE FROM proposals WHERE id NOT IN (SELECT entity FROM log);"));
  }
  server.start();
  server.repoint(planning);
  auto cut = planning.run({"audit", "verify"});
  CHECK(cut.exit_code() == 5);
  CHECK_THAT(cut.err, Catch::Contains("were removed"));
  auto offline = server.admin("verify", {"--head", verified.at("held").get<std::string>()});
  CHECK(offline.exit_code() == 5);
}

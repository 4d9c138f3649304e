// A client far behind catches up by snapshot, not entry by entry: the changed state of every
// proposal, the conflicts parked meanwhile and the outcome of its own pending change, and then
// the same digest as the server. Through the real `ergond` and `ergon`.

#include <map>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "shared/storage/database.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

TEST_CASE("a client 6,000 log rows behind catches up by snapshot with its own outcome",
          "[integration][catch_up]") {
  constexpr std::uint64_t kChanges = 6'000;  // above the 5,000 rows and 4 × 20 proposals
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto writer = server.add_client("writer", "directorate", "DTE");
  auto reader = server.add_client("reader", "directorate", "DTE");
  writer.sync();
  reader.sync();
  auto ids = writer.proposal_ids("DTE");

  std::map<std::string, std::string> last;
  REQUIRE(make_remarks_edits(writer.home, ids, kChanges, "w", random, last) == kChanges);
  auto pushed = parse_json(writer.run({"sync", "--json"}, std::chrono::minutes(4)));
  REQUIRE(pushed.at("accepted") == kChanges);
  // Offline meanwhile, the reader edits a proposal's title: its outcome must come back.
  ok(reader, {"edit", ids.front().substr(0, 8), "title=Τίτλος από τον αναγνώστη"});

  auto caught_up = parse_json(reader.run({"sync", "--json"}, std::chrono::minutes(4)));
  CHECK(caught_up.at("bootstrapped") == true);
  CHECK(caught_up.at("received").get<std::uint64_t>() < kChanges);  // not every entry
  CHECK(caught_up.at("accepted") == 1);
  CHECK(reader.status().at("pending") == 0);
  CHECK(caught_up.at("digest") == writer.sync().at("digest"));
  auto shown = reader.run_json({"show", ids.front().substr(0, 8), "--json"});
  CHECK(shown.at("title") == "Τίτλος από τον αναγνώστη");
  for (const auto& [id, remarks] : last) {
    auto p = reader.run_json({"show", id.substr(0, 8), "--json"});
    CHECK(p.at("remarks") == remarks);
  }
}

TEST_CASE("a client's kept digest that went wrong is recomputed, not answered with a fresh copy",
          "[integration][catch_up]") {
  // A sync compares the digest the home keeps beside its state (moved with each change it
  // applies) with the server's; when they differ it computes the digest from every field
  // before it asks for a fresh copy: a wrong kept value alone costs no bootstrap, and is mended.
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto client = server.add_client("client", "directorate", "DTE");
  auto first = client.sync();
  auto kept = [&](const std::string* replace) {
    auto db = ergon::storage::Database::open(client.home / "ergon.db",
                                             ergon::storage::Durability::kNormal);
    REQUIRE(db);
    if (replace)
      REQUIRE(db->exec("UPDATE meta SET value = '" + *replace + "' WHERE key = 'server_digest'"));
    auto read = db->prepare("SELECT value FROM meta WHERE key = 'server_digest'");
    REQUIRE(read);
    REQUIRE(read->step());
    return read->column_text(0);
  };
  CHECK(kept(nullptr) == first.at("digest"));
  std::string wrong(64, '0');
  CHECK(kept(&wrong) == wrong);

  ok(planning, {"edit", client.proposal_ids("DTE").front().substr(0, 8), "remarks=Νέα σημείωση"});
  planning.sync();
  auto again = client.sync();
  CHECK(again.at("bootstrapped") == false);
  CHECK(again.at("digest") == planning.sync().at("digest"));
  CHECK(kept(nullptr) == again.at("digest"));
}

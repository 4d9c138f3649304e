// Sync by carrying a file: a directorate that never connects, set up with a token and the
// pinned fingerprint only, exports bundles that a running server's folder answers with
// `ergond bundle apply`; it ends in the same state as a client that syncs over the network,
// conflicts included. Damaged, foreign, stale and repeated files change nothing. Through the
// real `ergond` and `ergon` binaries.

#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// A home that never connects: `ergon init --token … --fingerprint …` with no --server.
Client offline_client(RunningServer& server, const std::string& name) {
  Client c{server.root() / name, server.enrol("directorate", "DTE", name), "DTE"};
  auto made = run_process({ergon_binary(), "--home", c.home.string(), "init", "--directorate",
                           "DTE", "--user", "Γραφείο " + name, "--year", "2024", "--token", c.token,
                           "--fingerprint", server.fingerprint()});
  INFO(made.err);
  REQUIRE(made.status.ok());
  return c;
}

// `ergond bundle apply --data DATA IN OUT [--json]`.
ProcessResult apply(const RunningServer& server, const std::filesystem::path& in,
                    const std::filesystem::path& out, bool as_json = false) {
  std::vector<std::string> argv{ergond_binary(),        "bundle",    "apply",     "--data",
                                server.data().string(), in.string(), out.string()};
  if (as_json) argv.push_back("--json");
  return run_process(argv);
}

// One trip to the town hall and back: export, apply beside the running server, import.
json round_trip(const RunningServer& server, const Client& c, const std::string& tag) {
  auto request = c.home.parent_path() / (tag + ".bundle");
  auto answer = c.home.parent_path() / (tag + ".answer");
  ok(c, {"bundle", "export", request.string()});
  auto applied = apply(server, request, answer);
  INFO(applied.err);
  REQUIRE(applied.status.ok());
  return c.run_json({"bundle", "import", answer.string(), "--json"});
}

void flip_byte(const std::filesystem::path& file, std::uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5A));
}

}  // namespace

TEST_CASE("a directorate that syncs only by bundle ends where a networked one does",
          "[integration][bundle]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto net = server.add_client("net", "directorate", "DTE");
  auto usb = offline_client(server, "usb");
  net.sync();
  auto first = round_trip(server, usb, "first");
  CHECK(first.at("bootstrapped") == true);
  CHECK(first.at("digest") == net.sync().at("digest"));
  CHECK(usb.status().at("pending") == 0);

  // Both edit the same proposal's remarks from the same base: the network is first, the
  // bundle's edit is parked as a conflict. The bundle also adds a proposal of its own.
  auto target = net.proposal_ids("DTE").front().substr(0, 8);
  ok(net, {"edit", target, "remarks=Από το δίκτυο"});
  ok(usb, {"edit", target, "remarks=Από το στικάκι"});
  ok(usb, {"add", "ka_code=30.7331.0099", "title=Νέα παιδική χαρά στο Μασταμπά", "category=work",
           "new_or_continuing=new", "area=HER-CITY", "total_budget=80000", "allocation=20000",
           "funding=1099", "status=maturing", "priority=B"});
  CHECK(net.sync().at("accepted") == 1);
  auto second = round_trip(server, usb, "second");
  CHECK(second.at("sent") == 2);
  CHECK(second.at("accepted") == 1);
  CHECK(second.at("conflicts") == 1);
  CHECK(second.at("digest_differs") == false);
  net.sync();

  // The same state on both: proposals, the master's values, the open conflict.
  CHECK(usb.run_json({"list", "--json"}) == net.run_json({"list", "--json"}));
  auto usb_conflicts = usb.run_json({"conflicts", "--json"});
  auto net_conflicts = net.run_json({"conflicts", "--json"});
  REQUIRE(usb_conflicts.size() == 1);
  CHECK(usb_conflicts == net_conflicts);
  CHECK(usb_conflicts.at(0).at("incoming").at(0).at("values").at("remarks") == "Από το στικάκι");
  CHECK(usb.status().at("pending") == 0);
  CHECK(server.high_water_mark(usb.token) == last_device_seq(usb.home));
  CHECK(server.verify().at("digest") == net.sync().at("digest"));
}

TEST_CASE("repeated, stale, foreign and damaged bundles change nothing", "[integration][bundle]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto usb = offline_client(server, "usb");
  auto other = offline_client(server, "other");
  round_trip(server, usb, "start");
  auto ids = planning.proposal_ids("DTE");

  // Two bundles out before either answer comes back; the newer answer first.
  ok(usb, {"edit", ids[0].substr(0, 8), "remarks=πρώτη"});
  auto older = dir.path() / "older.bundle", newer = dir.path() / "newer.bundle";
  ok(usb, {"bundle", "export", older.string()});
  ok(usb, {"edit", ids[1].substr(0, 8), "remarks=δεύτερη"});
  ok(usb, {"bundle", "export", newer.string()});
  auto older_answer = dir.path() / "older.answer", newer_answer = dir.path() / "newer.answer";
  REQUIRE(apply(server, older, older_answer).status.ok());
  // The same bundle applied twice is answered with the same outcomes, not doubled.
  auto again = dir.path() / "again.answer";
  auto twice = parse_json(apply(server, older, again, true));
  CHECK(twice.at("duplicates") == 1);
  REQUIRE(apply(server, newer, newer_answer).status.ok());
  auto rows = server.verify().at("rows");
  CHECK(rows == 20 + 2);

  auto applied = usb.run_json({"bundle", "import", newer_answer.string(), "--json"});
  CHECK(applied.at("unchanged") == false);
  auto state = usb.run_json({"list", "--json"});
  CHECK(usb.run_json({"bundle", "import", newer_answer.string(), "--json"}).at("unchanged") ==
        true);
  CHECK(usb.run_json({"bundle", "import", older_answer.string(), "--json"}).at("unchanged") ==
        true);
  CHECK(usb.run_json({"list", "--json"}) == state);
  CHECK(usb.status().at("pending") == 0);

  // Another device's answer, a damaged answer, an altered request: refused, nothing changed.
  auto foreign = other.run({"bundle", "import", newer_answer.string()});
  CHECK(foreign.exit_code() == 3);
  CHECK_THAT(foreign.err, Catch::Contains("another device"));
  auto damaged = dir.path() / "damaged.answer";
  std::filesystem::copy_file(newer_answer, damaged);
  flip_byte(damaged, std::filesystem::file_size(damaged) / 2);
  auto broken = usb.run({"bundle", "import", damaged.string()});
  CHECK(broken.exit_code() == 5);
  auto altered = dir.path() / "altered.bundle";
  ok(usb, {"edit", ids[2].substr(0, 8), "remarks=τρίτη"});
  ok(usb, {"bundle", "export", altered.string()});
  flip_byte(altered, std::filesystem::file_size(altered) - 80);
  auto refused = apply(server, altered, dir / "x.answer");
  CHECK(refused.exit_code() != 0);
  CHECK(server.verify().at("rows") == rows);
  CHECK(usb.run_json({"list", "--json"}) != json());  // still readable
  CHECK(usb.status().at("pending") == 1);

  // A request given where an answer belongs is named as such.
  auto swapped = usb.run({"bundle", "import", altered.string()});
  CHECK(swapped.exit_code() == 3);
  CHECK_THAT(swapped.err, Catch::Contains("not a server's answer"));
}

TEST_CASE("a bundle-only directorate loses nothing when the server is restored from a backup",
          "[integration][bundle][backup]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto usb = offline_client(server, "usb");
  round_trip(server, usb, "start");
  auto id = planning.proposal_ids("DTE").front().substr(0, 8);
  auto backup = dir.path() / "nightly.backup";
  REQUIRE(server.admin("backup", {"--out", backup.string()}).status.ok());
  ok(usb, {"edit", id, "remarks=μετά το αντίγραφο"});
  CHECK(round_trip(server, usb, "acknowledged").at("accepted") == 1);

  server.stop();
  REQUIRE(server.admin("restore", {"--from", backup.string()}).status.ok());
  server.start(server.port());
  // The first answer after the restore tells the laptop; its next bundle re-sends.
  auto told = round_trip(server, usb, "told");
  CHECK(told.at("requeued") == 1);
  CHECK(told.at("bootstrapped") == true);
  CHECK(usb.status().at("pending") == 1);
  auto resent = round_trip(server, usb, "resent");
  CHECK(resent.at("accepted") == 1);
  CHECK(usb.status().at("pending") == 0);
  CHECK(server.high_water_mark(usb.token) == last_device_seq(usb.home));
  CHECK(resent.at("digest") == planning.sync().at("digest"));
  CHECK(planning.run_json({"show", id, "--json"}).at("remarks") == "μετά το αντίγραφο");
}

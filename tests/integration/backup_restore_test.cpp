// The central server restored from a backup that is older than what clients saw acknowledged:
// a real `ergond` backs up while it serves, takes more changes from several clients, stops and
// is restored; the clients meet the new epoch, re-send what it lost, and nothing acknowledged is
// lost or doubled. Through the real `ergond` and `ergon` binaries.

#include <fstream>
#include <map>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

json admin_json(const RunningServer& server, const std::string& command,
                const std::vector<std::string>& args) {
  auto with_json = args;
  with_json.push_back("--json");
  auto result = server.admin(command, with_json);
  INFO("ergond " << command << ": " << result.err);
  REQUIRE(result.status.ok());
  return parse_json(result);
}

// Every proposal's remarks as `client` sees them, by id.
std::map<std::string, std::string> remarks_of(const Client& client) {
  std::map<std::string, std::string> out;
  for (const auto& p : client.run_json({"list", "--json"}))
    out[p.at("id").get<std::string>()] = p.at("remarks").get<std::string>();
  return out;
}

// Ids of every second proposal, starting at `first`: two clients editing disjoint halves.
std::vector<std::string> half(const std::vector<std::string>& ids, std::size_t first) {
  std::vector<std::string> out;
  for (std::size_t i = first; i < ids.size(); i += 2) out.push_back(ids[i]);
  return out;
}

}  // namespace

TEST_CASE("after a restore from an older backup no acknowledged change is lost or doubled",
          "[integration][backup]") {
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto a = server.add_client("a", "directorate", "DTE");
  auto b = server.add_client("b", "directorate", "DTE");
  auto idle = server.add_client("idle", "directorate", "DTE");  // syncs, then only reads
  a.sync();
  b.sync();
  idle.sync();
  auto ids = a.proposal_ids("DTE");
  std::map<std::string, std::string> last;
  make_remarks_edits(a.home, half(ids, 0), 30, "a-before", random, last);
  a.sync();

  auto backup_file = dir.path() / "nightly.backup";
  auto taken = admin_json(server, "backup", {"--out", backup_file.string()});
  auto backup_seq = taken.at("seq").get<std::uint64_t>();
  CHECK(std::filesystem::status(backup_file).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(a.sync().at("cursor") == backup_seq);

  // After the backup: both write, both are acknowledged.
  auto a_after = make_remarks_edits(a.home, half(ids, 0), 40, "a-after", random, last);
  auto b_after = make_remarks_edits(b.home, half(ids, 1), 25, "b-after", random, last);
  REQUIRE(a.sync().at("accepted") == a_after);
  REQUIRE(b.sync().at("accepted") == b_after);
  a.sync();
  auto before_restore = server.verify();
  auto rows_before = before_restore.at("rows").get<std::uint64_t>();
  REQUIRE(rows_before == backup_seq + a_after + b_after);
  auto a_seq = last_device_seq(a.home), b_seq = last_device_seq(b.home);

  server.stop();
  auto restored = admin_json(server, "restore", {"--from", backup_file.string()});
  CHECK(restored.at("from_epoch") == 1);
  CHECK(restored.at("epoch") == 2);
  CHECK(restored.at("backup_seq") == backup_seq);
  CHECK(restored.at("replaced_seq") == rows_before);
  server.start(server.port());

  auto a_back = a.sync();
  CHECK(a_back.at("requeued") == a_after);
  CHECK(a_back.at("accepted") == a_after);
  CHECK(a_back.at("conflicts") == 0);
  CHECK(a_back.at("bootstrapped") == true);
  auto b_back = b.sync();
  CHECK(b_back.at("requeued") == b_after);
  CHECK(b_back.at("accepted") == b_after);
  CHECK(idle.sync().at("requeued") == 0);
  auto digest = a.sync().at("digest");

  // None lost, none doubled: the log holds the backup, the restore's row and each change once.
  auto after = server.verify();
  CHECK(after.at("rows") == backup_seq + 1 + a_after + b_after);
  CHECK(server.high_water_mark(a.token) == a_seq);
  CHECK(server.high_water_mark(b.token) == b_seq);
  // The two wrote disjoint proposals, so the master is the one from before the restore.
  CHECK(after.at("digest") == before_restore.at("digest"));
  CHECK(b.sync().at("digest") == digest);
  CHECK(idle.sync().at("digest") == digest);
  CHECK(planning.sync().at("digest") == digest);
  auto seen = remarks_of(idle);
  for (const auto& [id, remarks] : last) CHECK(seen.at(id) == remarks);
  for (const auto* c : {&a, &b, &idle}) CHECK(c->status().at("pending") == 0);

  // The audit chain explains the rewind.
  std::size_t restores_logged = 0;
  for (const auto& e : planning.run_json({"audit", "log", "--json"}))
    if (e.at("kind") == "restore") ++restores_logged;
  CHECK(restores_logged == 1);
  CHECK(a.run_json({"audit", "verify", "--json"}).at("ok") == true);
}

TEST_CASE("a restore is refused under a running server and from a damaged or locked backup",
          "[integration][backup]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  // Serving but never backed up: unhealthy, and says why.
  auto unbacked = server.admin("status", {"--json"});
  CHECK(unbacked.exit_code() == 1);
  CHECK(parse_json(unbacked).at("problems").dump().find("no backup") != std::string::npos);
  auto plain = dir.path() / "plain.backup", sealed = dir.path() / "sealed.backup";
  auto pass = dir.path() / "pass";
  { std::ofstream(pass) << "Ηράκλειο 2024 correct horse\n"; }
  auto stolen = server.add_client("stolen", "directorate", "DTE");  // in the backup, revoked after
  stolen.sync();
  REQUIRE(server.admin("backup", {"--out", plain.string()}).status.ok());
  REQUIRE(server
              .admin("backup",
                     {"--out", sealed.string(), "--encrypt", "--passphrase-file", pass.string()})
              .status.ok());
  auto again = server.admin("backup", {"--out", plain.string()});
  CHECK(again.exit_code() == 1);
  CHECK_THAT(again.err, Catch::Contains("never overwrites"));
  // Enrolled and revoked after the backup: both survive the restore below.
  auto late = server.add_client("late", "directorate", "DTE");
  late.sync();
  auto stolen_id = stolen.token.substr(0, stolen.token.find('.'));
  REQUIRE(server.admin("revoke", {stolen_id}).status.ok());
  auto status = admin_json(server, "status", {});
  CHECK(status.at("healthy") == true);
  CHECK(status.at("serving") == true);
  auto too_old = server.admin("status", {"--max-backup-age", "0", "--json"});
  CHECK(too_old.exit_code() == 1);
  CHECK(parse_json(too_old).at("problems").dump().find("older than") != std::string::npos);

  auto refused = server.admin("restore", {"--from", plain.string()});
  CHECK(refused.exit_code() == 4);
  CHECK_THAT(refused.err, Catch::Contains("a server is running on"));
  server.stop();
  auto stopped = server.admin("status", {"--json"});
  CHECK(stopped.exit_code() == 1);
  CHECK(parse_json(stopped).at("serving") == false);

  auto no_pass = server.admin("restore", {"--from", sealed.string()});
  CHECK(no_pass.exit_code() == 3);
  CHECK_THAT(no_pass.err, Catch::Contains("is encrypted"));
  auto damaged = dir.path() / "damaged.backup";
  std::filesystem::copy_file(plain, damaged);
  std::filesystem::resize_file(damaged, std::filesystem::file_size(plain) - 10);
  auto broken = server.admin("restore", {"--from", damaged.string()});
  CHECK(broken.exit_code() == 5);
  CHECK_THAT(broken.err, Catch::Contains("damaged"));
  // The refusals left the store as it was: still epoch 1.
  CHECK(parse_json(server.admin("status", {"--json"})).at("epoch") == 1);

  // Another server's backup never replaces this store.
  TempDir elsewhere;
  RunningServer other(elsewhere.path());
  auto foreign = other.admin("restore", {"--from", plain.string()});
  CHECK(foreign.exit_code() == 3);
  CHECK_THAT(foreign.err, Catch::Contains("restore it into its own server's folder"));

  auto restored = admin_json(server, "restore",
                             {"--from", sealed.string(), "--passphrase-file", pass.string()});
  CHECK(restored.at("epoch") == 2);
  CHECK(restored.at("enrolments_kept") == 1);
  CHECK(restored.at("revocations_kept") == 1);
  CHECK(std::filesystem::exists(restored.at("replaced_into").get<std::string>() + "/ergond.db"));
  server.start(server.port());
  CHECK(server.verify().at("rows") == 1);
  CHECK(late.sync().at("bootstrapped") == true);  // its token still works after the restore
  auto refused_again = stolen.run({"sync"});
  CHECK(refused_again.exit_code() == 4);  // and a revoked one stays revoked
}

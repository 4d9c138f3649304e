// Refusals by a real `ergond` over TLS: tokens that are garbage, wrong, bound to another client
// or revoked (exit 4, the message says why), and server keys or identities that do not match
// what the client pinned (exit 5). A refused sync keeps every local edit and logs nothing.

#include <string>

#include <catch2/catch.hpp>

#include "shared/storage/database.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// A home with no server yet plus one offline draft, then pointed at `server` with `token`.
Client offline_client_with_edit(const RunningServer& server, const std::string& name,
                                const std::string& token) {
  Client c{server.root() / name, token, "DTE"};
  auto init = c.run({"init", "--directorate", "DTE", "--user", name, "--year", "2024"});
  INFO(init.err);
  REQUIRE(init.status.ok());
  auto added = c.run({"add", "title=Έργο εκτός σύνδεσης " + name, "category=work",
                      "ka_code=30-7323.090", "area=HER-CITY", "total_budget=10.000,00",
                      "new_or_continuing=new", "status=maturing", "priority=B"});
  INFO(added.err);
  REQUIRE(added.status.ok());
  auto pointed = c.run({"init", "--server", server.address(), "--token", token, "--fingerprint",
                        server.fingerprint()});
  INFO(pointed.err);
  REQUIRE(pointed.status.ok());
  REQUIRE(c.status().at("pending") == 1);
  return c;
}

// A refused sync: exit 4, the message names the token, the edit is still pending, and the
// error is kept for `ergon status`.
void require_token_refused(const Client& c, const std::string& mentions) {
  auto refused = c.run({"sync", "--json"});
  INFO(refused.err);
  CHECK(refused.exit_code() == 4);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Contains(mentions));
  auto status = c.status();
  CHECK(status.at("pending") == 1);
  CHECK_THAT(status.at("last_error").get<std::string>(), Catch::Contains(mentions));
}

}  // namespace

TEST_CASE("a wrong, foreign or revoked token is refused with exit 4 and nothing is lost",
          "[integration]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  seed_programme(server);
  auto rows_before = server.verify().at("rows");

  SECTION("garbage") {
    auto c = offline_client_with_edit(server, "garbage", "0123456789abcdef.not-a-secret");
    require_token_refused(c, "token");
  }
  SECTION("a real device with the wrong secret") {
    auto real = server.enrol("directorate", "DTE", "real");
    auto wrong = real.substr(0, real.find('.') + 1) + std::string(64, 'a');
    auto c = offline_client_with_edit(server, "wrong-secret", wrong);
    require_token_refused(c, "token");
    // The device's own client still gets in: the failed attempt bound nothing.
    auto own = offline_client_with_edit(server, "owner", real);
    CHECK(own.sync().at("accepted") == 1);
  }
  SECTION("a token without a secret is a usage error at init") {
    Client c{dir / "no-dot", "", "DTE"};
    auto init = c.run({"init", "--server", server.address(), "--token", "nodot", "--fingerprint",
                       server.fingerprint()});
    CHECK(init.exit_code() == 2);
    CHECK_THAT(init.err, Catch::Contains("--token"));
  }
  SECTION("a token already used by another client") {
    auto first = server.add_client("first", "directorate", "DTE");
    first.sync();
    auto c = offline_client_with_edit(server, "second", first.token);
    require_token_refused(c, "another client");
  }
  SECTION("a revoked token") {
    auto c =
        offline_client_with_edit(server, "revoked", server.enrol("directorate", "DTE", "revoked"));
    REQUIRE(c.sync().at("accepted") == 1);
    REQUIRE(
        c.run({"edit",
               c.run_json({"list", "--json", "--directorate", "DTE", "--search", "εκτός"})[0].at(
                   "id"),
               "remarks=μετά την ανάκληση"})
            .status.ok());
    // ergond has no revoke command yet (DESIGN.md: the admin "enrols and revokes devices"):
    // revoke the way the store records it, with the server running.
    {
      auto db = ergon::storage::Database::open(server.data() / "ergond.db",
                                               ergon::storage::Durability::kFull);
      REQUIRE(db);
      auto revoke = db->prepare("UPDATE devices SET revoked = 1 WHERE device_id = ?1");
      REQUIRE(revoke);
      revoke->bind(1, c.token.substr(0, c.token.find('.')));
      REQUIRE(revoke->run());
    }
    require_token_refused(c, "revoked");
  }
  // Refused hellos write nothing to the log: one row per change of an admitted device.
  auto after = server.verify();
  std::uint64_t made = 0;
  for (const auto& d : server.devices()) made += d.at("high_water_mark").get<std::uint64_t>();
  CHECK(after.at("rows").get<std::uint64_t>() == made);
  CHECK(after.at("rows").get<std::uint64_t>() <= rows_before.get<std::uint64_t>() + 1);
}

TEST_CASE("a pinned key or server identity that does not match is refused with exit 5",
          "[integration]") {
  TempDir dir;
  RunningServer real(dir / "real");
  RunningServer other(dir / "other");  // initialised, with its own key and server id
  REQUIRE(real.fingerprint() != other.fingerprint());
  real.start();
  auto planning = seed_programme(real);
  auto port = real.port();
  auto token = real.enrol("directorate", "DTE", "laptop");
  Client c{dir / "laptop", token, "DTE"};

  // While the real server is down, the client pins the other server's key: init cannot check
  // it and says so, but keeps it.
  auto stopped = real.stop();  // "Stops cleanly on SIGINT or SIGTERM"
  CHECK(stopped.ok());
  CHECK_THAT(real.serve_log(), Catch::Contains("stopped"));
  auto pinned =
      c.run({"init", "--directorate", "DTE", "--user", "Μαρία", "--year", "2024", "--server",
             real.address(), "--token", token, "--fingerprint", other.fingerprint()});
  INFO(pinned.err);
  REQUIRE(pinned.status.ok());
  CHECK_THAT(pinned.err, Catch::Contains("not reachable"));
  REQUIRE(c.run({"add", "title=Έργο πριν τον έλεγχο κλειδιού", "category=work",
                 "ka_code=30-7323.091", "area=HER-CITY", "total_budget=10.000,00",
                 "new_or_continuing=new", "status=maturing", "priority=B"})
              .status.ok());

  real.start(port);
  auto refused = c.run({"sync", "--json"});
  INFO(refused.err);
  CHECK(refused.exit_code() == 5);
  CHECK_THAT(refused.err, Catch::Contains(real.fingerprint()));
  CHECK_THAT(refused.err, Catch::Contains(other.fingerprint()));
  CHECK(c.status().at("pending") == 1);
  CHECK(c.status().at("last_sync").is_null());
  // Nothing reached the server: the token is still unbound, the log unchanged.
  for (const auto& d : real.devices())
    if (d.at("device_id") == token.substr(0, token.find('.')))
      CHECK(d.at("client_device_id").is_null());
  CHECK(real.verify().at("rows") == 20);

  // init with a wrong --fingerprint while the server is up: exit 5, the pinned key unchanged.
  auto wrong = c.run(
      {"init", "--server", real.address(), "--token", token, "--fingerprint", other.fingerprint()});
  CHECK(wrong.exit_code() == 5);
  CHECK_THAT(wrong.err, Catch::Contains("ergond fingerprint"));
  Client fresh{dir / "fresh", token, "DTE"};
  CHECK(fresh
            .run({"init", "--server", real.address(), "--token", token, "--fingerprint",
                  other.fingerprint()})
            .exit_code() == 5);
  CHECK_FALSE(std::filesystem::exists(fresh.home / "ergon.db"));

  // The right key: the offline edit goes through, nothing was lost.
  REQUIRE(c.run({"init", "--server", real.address(), "--token", token, "--fingerprint",
                 real.fingerprint()})
              .status.ok());
  auto synced = c.sync();
  CHECK(synced.at("accepted") == 1);
  CHECK(synced.at("digest") == real.verify().at("digest"));
  CHECK(synced.at("digest") == planning.sync().at("digest"));

  // Another installation (another server id) with its own valid token and key: the client's
  // data belongs to the first server, so it refuses to mix them (exit 5), keeping its edits.
  other.start();
  auto other_token = other.enrol("directorate", "DTE", "laptop");
  REQUIRE(c.run({"edit", c.run_json({"list", "--json", "--search", "κλειδιού"})[0].at("id"),
                 "priority=A"})
              .status.ok());
  REQUIRE(c.run({"init", "--server", other.address(), "--token", other_token, "--fingerprint",
                 other.fingerprint()})
              .status.ok());
  auto mixed = c.run({"sync", "--json"});
  INFO(mixed.err);
  CHECK(mixed.exit_code() == 5);
  CHECK_THAT(mixed.err, Catch::Contains("belongs to server"));
  CHECK(other.verify().at("rows") == 0);
  CHECK(c.status().at("pending") == 1);
  REQUIRE(c.run({"init", "--server", real.address(), "--token", token, "--fingerprint",
                 real.fingerprint()})
              .status.ok());
  CHECK(c.sync().at("accepted") == 1);
}

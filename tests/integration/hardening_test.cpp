// What a hostile peer or a copied token can do to a real `ergond` (the ASan build): memory
// bound before and after admission, the device key that a copied token lacks, throttled
// guessing, a revoke that ends open sessions, a laptop re-bound to a new token, and the
// per-session log line IT reads.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/crypto/crypto.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/raw_peer.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMiB = 1u << 20;

// A length prefix announcing `bytes`, with no body behind it.
std::string announce(std::uint32_t bytes) {
  return std::string{static_cast<char>(bytes >> 24), static_cast<char>((bytes >> 16) & 0xff),
                     static_cast<char>((bytes >> 8) & 0xff), static_cast<char>(bytes & 0xff)};
}

std::string random_device_id() {
  auto hex = crypto::random_hex(16);
  std::string raw;
  for (std::size_t i = 0; i < 32; i += 2)
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return raw;
}

// A TLS peer that said hello with `token`, `device` and `key`; its welcome (or error) read.
struct HelloResult {
  std::unique_ptr<RawPeer> peer;
  std::optional<wire::Message> reply;
};
HelloResult say_hello(const RunningServer& server, const std::string& token,
                      const std::string& device, const crypto::SigningKey& key) {
  HelloResult r{RawPeer::connect(server.port(), true), std::nullopt};
  REQUIRE(r.peer);
  REQUIRE(r.peer->send(hello_message(token, device, key, r.peer->session_binding())));
  r.reply = r.peer->read();
  REQUIRE(r.reply);
  return r;
}

// The server writes a session's line as the session ends, which can be just after the client
// saw the end: wait up to two seconds for `text` to appear in its log.
bool log_shows(const RunningServer& server, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    if (server.serve_log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  INFO("the server's log: " << server.serve_log());
  return false;
}

}  // namespace

TEST_CASE("before admission a frame above the hello cap is refused and costs no memory",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  std::this_thread::sleep_for(200ms);
  auto idle_rss = server.resident_bytes();
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 100; ++i) {
    auto peer = RawPeer::connect(server.port(), true);
    REQUIRE(peer);
    REQUIRE(peer->send(announce(16 * kMiB)));
    auto reply = peer->read();
    REQUIRE(reply);
    REQUIRE(reply->has_error());
    CHECK_THAT(reply->error().message(), Catch::Contains("above the limit of 4096"));
  }
  // Under the cap, announced and never sent: each holds at most its announced hello.
  for (int i = 0; i < 100; ++i) {
    peers.push_back(RawPeer::connect(server.port(), true));
    REQUIRE(peers.back());
    REQUIRE(peers.back()->send(announce(4 * 1024)));
  }
  std::this_thread::sleep_for(300ms);
  auto held = server.resident_bytes() - std::min(server.resident_bytes(), idle_rss);
  INFO("idle " << idle_rss / kMiB << " MiB, with 100 half-sent hellos +" << held / kMiB << " MiB");
  CHECK(held < 128 * kMiB);
  CHECK(server.is_running());
}

TEST_CASE("after admission memory grows with the bytes received, not the bytes announced",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto token = server.enrol("auditor", "", "memory probe");
  auto device = random_device_id();
  auto key = crypto::generate_signing_key();
  std::this_thread::sleep_for(200ms);
  auto idle_rss = server.resident_bytes();
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 100; ++i) {
    auto hello = say_hello(server, token, device, key);
    REQUIRE(hello.reply->has_welcome());
    REQUIRE(hello.peer->send(announce(16 * kMiB) + "x"));
    peers.push_back(std::move(hello.peer));
  }
  std::this_thread::sleep_for(500ms);
  auto held = server.resident_bytes() - std::min(server.resident_bytes(), idle_rss);
  INFO("idle " << idle_rss / kMiB << " MiB; 100 sessions announcing 16 MiB each: +" << held / kMiB
               << " MiB");
  CHECK(held < 128 * kMiB);  // the announced total is 1600 MiB
  CHECK(server.is_running());
}

TEST_CASE("a pull cursor beyond any log position is refused, not read as the whole log",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  seed_programme(server);
  auto hello = say_hello(server, server.enrol("auditor", "", "cursor probe"), random_device_id(),
                         crypto::generate_signing_key());
  REQUIRE(hello.reply->has_welcome());
  wire::Message pull;
  pull.set_request_id(2);
  pull.mutable_pull()->set_cursor(std::uint64_t{1} << 63);
  REQUIRE(hello.peer->send(pull));
  auto reply = hello.peer->read();
  REQUIRE(reply);
  REQUIRE(reply->has_error());
  CHECK_THAT(reply->error().message(), Catch::Contains("beyond any log position"));
}

TEST_CASE("a copied token and device id do not open a session without the device key",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto token = server.enrol("directorate", "DTE", "laptop");
  auto device = random_device_id();
  auto key = crypto::generate_signing_key();
  REQUIRE(say_hello(server, token, device, key).reply->has_welcome());  // binds id and key

  SECTION("another key with the same token and device id") {
    auto stolen = say_hello(server, token, device, crypto::generate_signing_key());
    REQUIRE(stolen.reply->has_error());
    CHECK_THAT(stolen.reply->error().message(), Catch::Contains("another device key"));
  }
  SECTION("a proof recorded on another connection") {
    auto first = RawPeer::connect(server.port(), true);
    auto second = RawPeer::connect(server.port(), true);
    REQUIRE((first && second));
    REQUIRE(second->send(hello_message(token, device, key, first->session_binding())));
    auto reply = second->read();
    REQUIRE(reply);
    REQUIRE(reply->has_error());
    CHECK_THAT(reply->error().message(), Catch::Contains("did not prove"));
  }
  SECTION("no proof at all") {
    auto peer = RawPeer::connect(server.port(), true);
    REQUIRE(peer);
    auto hello = hello_message(token, device, key, peer->session_binding());
    hello.mutable_hello()->clear_proof();
    REQUIRE(peer->send(hello));
    auto reply = peer->read();
    REQUIRE(reply);
    REQUIRE(reply->has_error());
  }
  SECTION("the all-zero device id, which only the server's own log events carry") {
    auto other = server.enrol("directorate", "DTE", "zero");
    auto zero = say_hello(server, other, std::string(16, '\0'), crypto::generate_signing_key());
    REQUIRE(zero.reply->has_error());
    CHECK_THAT(zero.reply->error().message(), Catch::Contains("all-zero device id"));
  }
  // The owner still gets in.
  CHECK(say_hello(server, token, device, key).reply->has_welcome());
}

TEST_CASE("repeated bad tokens for one enrolment are slowed down, and the right one still works",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto token = server.enrol("directorate", "DTE", "guessed");
  auto wrong = token.substr(0, token.find('.') + 1) + std::string(64, 'a');
  auto device = random_device_id();
  auto key = crypto::generate_signing_key();
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {
    auto refused = say_hello(server, wrong, device, key);
    REQUIRE(refused.reply->has_error());
  }
  auto guessing = std::chrono::steady_clock::now() - started;
  // Three free failures, then 250 + 500 + 1000 + 2000 + 4000 ms before the next attempts.
  CHECK(guessing > 3s);
  auto owner = say_hello(server, token, device, key);
  CHECK(owner.reply->has_welcome());
}

TEST_CASE("ergond revoke by prefix closes the device's open sessions within a second",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto token = server.enrol("auditor", "", "to revoke");
  auto hello = say_hello(server, token, random_device_id(), crypto::generate_signing_key());
  REQUIRE(hello.reply->has_welcome());
  auto enrolment = token.substr(0, token.find('.'));
  auto revoked = server.admin("revoke", {enrolment.substr(0, 8)});
  INFO(revoked.err);
  REQUIRE(revoked.status.ok());
  CHECK_THAT(revoked.out, Catch::Contains(enrolment));
  CHECK(hello.peer->closed_by_server(1500ms));
  CHECK(log_shows(server, "sessions of revoked devices"));

  auto ambiguous = server.admin("revoke", {""});
  CHECK(ambiguous.exit_code() != 0);
}

TEST_CASE("a laptop whose token was revoked is re-bound by a new token, keeping its work",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  seed_programme(server);
  auto laptop = server.add_client("laptop", "directorate", "DTE");
  REQUIRE(laptop.sync().at("bootstrapped") == true);
  auto id = laptop.proposal_ids("DTE").at(0);
  REQUIRE(laptop.run({"edit", id, "remarks=πριν"}).status.ok());
  REQUIRE(laptop.sync().at("accepted") == 1);
  auto old_enrolment = laptop.token.substr(0, laptop.token.find('.'));
  REQUIRE(server.admin("revoke", {old_enrolment}).status.ok());

  REQUIRE(laptop.run({"edit", id, "remarks=μετά την ανάκληση"}).status.ok());
  auto refused = laptop.run({"sync"});
  CHECK(refused.exit_code() == 4);

  auto fresh = server.enrol("directorate", "DTE", "laptop, new token");
  auto rebind = laptop.run({"init", "--server", server.address(), "--token", fresh, "--fingerprint",
                            server.fingerprint()});
  INFO(rebind.err);
  REQUIRE(rebind.status.ok());
  laptop.token = fresh;
  auto synced = laptop.sync();
  CHECK(synced.at("accepted") == 1);  // the edit made while revoked, numbered after the first
  CHECK(laptop.status().at("pending") == 0);
  auto new_enrolment = fresh.substr(0, fresh.find('.'));
  bool old_revoked = false;
  std::uint64_t new_mark = 0;
  for (const auto& d : server.devices()) {
    if (d.at("device_id") == old_enrolment) old_revoked = d.at("revoked");
    if (d.at("device_id") == new_enrolment) {
      new_mark = d.at("high_water_mark");
      CHECK(!d.at("last_seen_ms").is_null());
    }
  }
  CHECK(old_revoked);
  CHECK(new_mark == 2);
  CHECK(log_shows(server, "re-bound from enrolment " + old_enrolment));
  // One line per session, naming the enrolment and what it did.
  CHECK(log_shows(server, "session of device " + new_enrolment));
  CHECK(log_shows(server, "pushed 1 (1 accepted"));
}

TEST_CASE("a change above 64 KiB is logged without its values and blocks nobody's sync",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  seed_programme(server);
  auto device = random_device_id();
  auto hello = say_hello(server, server.enrol("directorate", "DPOL", "hostile"), device,
                         crypto::generate_signing_key());
  REQUIRE(hello.reply->has_welcome());
  wire::Message push;
  push.set_request_id(2);
  auto* change = push.mutable_push()->add_changes();
  change->set_device_id(device);
  change->set_device_seq(1);
  change->set_entity_kind(ergon::wire::ENTITY_PROPOSAL);
  change->set_entity_key(crypto::random_hex(16));
  change->set_group("create");
  auto* title = change->add_values();
  title->set_name("title");
  title->set_value(std::string(10 * kMiB, 'A'));
  REQUIRE(hello.peer->send(push));
  auto reply = hello.peer->read(30s);
  REQUIRE(reply);
  REQUIRE(reply->has_push_reply());
  REQUIRE(reply->push_reply().outcomes_size() == 1);
  CHECK(reply->push_reply().outcomes(0).kind() == 2);  // rejected
  CHECK_THAT(reply->push_reply().outcomes(0).reason(), Catch::Contains("at most 65536"));

  // Every other client still syncs: a fresh bootstrap and an existing client's pull.
  auto fresh = server.add_client("fresh", "auditor", "");
  CHECK(fresh.sync().at("bootstrapped") == true);
  auto planning = Client{server.root() / "planning", "", ""};
  auto again = planning.run({"sync", "--json"});
  INFO(again.err);
  CHECK(again.status.ok());
  auto verified = server.verify();
  CHECK(verified.at("rows").get<std::uint64_t>() == 21);  // 20 imported + the compact rejection
}

TEST_CASE("with tiny pages a bootstrap and its own outcomes come in many pages and converge",
          "[integration][hardening][paging]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start(0, {"--max-page-bytes", "2048"});
  auto planning = seed_programme(server);
  // A laptop that worked offline first: its first sync pushes, then bootstraps in parts and
  // learns the outcomes of its own changes in parts too.
  Client laptop{server.root() / "laptop", server.enrol("planning", "", "laptop"), ""};
  REQUIRE(laptop.run({"init", "--user", "Χρήστης", "--year", "2024"}).status.ok());
  for (int i = 0; i < 25; ++i)
    REQUIRE(laptop
                .run({"add", "title=Έργο εκτός σύνδεσης " + std::to_string(i), "category=study",
                      "area=HER-CITY", "total_budget=10.000,00", "new_or_continuing=new",
                      "status=maturing", "priority=C", "directorate=DTE"})
                .status.ok());
  server.repoint(laptop);
  auto synced = laptop.sync();
  CHECK(synced.at("accepted") == 25);
  CHECK(synced.at("bootstrapped") == true);
  CHECK(laptop.status().at("pending") == 0);
  auto reference = planning.sync();
  CHECK(synced.at("digest") == reference.at("digest"));
  CHECK(laptop.run_json({"list", "--json"}).size() == 45);
  CHECK(log_shows(server, "pulled"));
}

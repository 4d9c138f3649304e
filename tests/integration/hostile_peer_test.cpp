// Hostile peers against a real `ergond` (the ASan build in the test command): frames a client
// would never send, before and after authentication, over plain TCP and TLS. Whatever arrives,
// the server answers with an error frame or closes, keeps running, and serves honest clients.

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/raw_peer.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;

namespace {

// The 6 bytes of the reproduction: a frame of 2 bytes holding request_id = 1.
const std::string kNotHello = frame_of(std::string("\x08\x01", 2));

// The server is alive and its log holds no sanitizer report.
void require_alive(RunningServer& server) {
  CHECK(server.is_running());
  auto log = server.serve_log();
  CHECK_THAT(log, !Catch::Contains("AddressSanitizer") && !Catch::Contains("runtime error") &&
                      !Catch::Contains("double free"));
}

}  // namespace

TEST_CASE("a first frame that is not hello is refused with an error frame, and the server lives",
          "[integration][hostile]") {
  TempDir dir;
  RunningServer server(dir.path());
  const bool tls = GENERATE(false, true);
  INFO((tls ? "TLS" : "plain TCP"));
  server.start(0, tls ? std::vector<std::string>{} : std::vector<std::string>{"--insecure"});
  for (int round = 0; round < 3; ++round) {
    auto peer = RawPeer::connect(server.port(), tls);
    REQUIRE(peer);
    REQUIRE(peer->send(kNotHello));
    auto reply = peer->read();
    REQUIRE(reply);
    REQUIRE(reply->has_error());
    CHECK(reply->request_id() == 1);
    CHECK_THAT(reply->error().message(), Catch::Contains("starts with hello"));
    CHECK(peer->closed_by_server());
  }
  require_alive(server);
  if (tls) {
    auto planning = seed_programme(server);  // an honest client still syncs
    CHECK(planning.status().at("pending") == 0);
  }
  require_alive(server);
}

TEST_CASE("connections past the limit are refused cleanly and the server lives",
          "[integration][hostile]") {
  TempDir dir;
  RunningServer server(dir.path());
  constexpr int kLimit = 16;
  server.start(0, {"--insecure", "--max-connections", std::to_string(kLimit)});
  std::vector<std::unique_ptr<RawPeer>> idle;
  for (int i = 0; i < kLimit; ++i) {
    idle.push_back(RawPeer::connect(server.port(), false));
    REQUIRE(idle.back());
  }
  for (int extra = 0; extra < 3; ++extra) {
    auto late = RawPeer::connect(server.port(), false);
    REQUIRE(late);
    auto reply = late->read();
    REQUIRE(reply);
    REQUIRE(reply->has_error());
    CHECK_THAT(reply->error().message(), Catch::Contains("connection limit"));
    CHECK(late->closed_by_server());
  }
  require_alive(server);
  idle.clear();
  // Once the idle ones are gone, a new connection is served again.
  std::unique_ptr<RawPeer> again;
  for (int attempt = 0; attempt < 100 && !again; ++attempt) {
    auto peer = RawPeer::connect(server.port(), false);
    REQUIRE(peer);
    REQUIRE(peer->send(kNotHello));
    auto reply = peer->read();
    REQUIRE(reply);
    if (reply->error().message().find("starts with hello") != std::string::npos)
      again = std::move(peer);
    else
      std::this_thread::sleep_for(20ms);
  }
  CHECK(again);
  require_alive(server);
}

TEST_CASE("every refusal an admitted session can meet is an error frame, and the server lives",
          "[integration][hostile]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto token = server.enrol("directorate", "DTE", "refusals");
  auto key = ergon::crypto::generate_signing_key();
  std::string device(16, '\x07');
  auto admitted = [&] {
    auto peer = RawPeer::connect(server.port(), true);
    REQUIRE(peer);
    REQUIRE(peer->send(hello_message(token, device, key, peer->session_binding())));
    auto welcome = peer->read();
    REQUIRE(welcome);
    REQUIRE(welcome->has_welcome());
    return peer;
  };
  auto change_of = [&](std::string of_device, std::uint64_t seq) {
    ergon::wire::Message push;
    push.set_request_id(2);
    auto* c = push.mutable_push()->add_changes();
    c->set_device_id(std::move(of_device));
    c->set_device_seq(seq);
    c->set_entity_key(std::string(32, 'a'));
    c->set_group("remarks");
    auto* v = c->add_values();
    v->set_name("remarks");
    v->set_value("x");
    return push;
  };
  struct Case {
    std::string name;
    ergon::wire::Message request;
    std::string says;
  };
  std::vector<Case> cases;
  {
    ergon::wire::Message m;
    m.set_request_id(2);
    m.mutable_welcome();
    cases.push_back({"a message a client never sends", m, "expected ping, push, pull"});
  }
  {
    ergon::wire::Message m;
    m.set_request_id(2);
    m.mutable_hello();
    cases.push_back({"a second hello", m, "expected ping, push, pull"});
  }
  cases.push_back({"another device's change", change_of(std::string(16, '\x09'), 1),
                   "belongs to another device"});
  cases.push_back({"a gap in the sequence", change_of(device, 5), "leaves a gap"});
  {
    auto m = change_of(device, 1);
    m.mutable_push()->mutable_changes(0)->mutable_values(0)->set_name("no_such_field");
    cases.push_back({"an unknown field", m, "unknown field"});
  }
  {
    ergon::wire::Message m;
    m.set_request_id(2);
    for (int i = 0; i < 1001; ++i)
      *m.mutable_push()->add_changes() = change_of(device, 1).push().changes(0);
    cases.push_back({"a batch above 1000 changes", m, "the limit is 1000"});
  }
  {
    ergon::wire::Message m;
    m.set_request_id(2);
    m.mutable_history()->set_after_seq(std::uint64_t{1} << 63);
    cases.push_back({"a history page beyond any log position", m, "beyond any log position"});
  }
  {
    ergon::wire::Message m;
    m.set_request_id(2);
    m.mutable_audit_verify()->mutable_held()->set_seq(1);
    m.mutable_audit_verify()->set_held_hash("short");
    cases.push_back({"a chain head that is not 32 bytes", m, "a chain head is 32 bytes"});
  }
  for (const auto& c : cases) {
    INFO(c.name);
    auto peer = admitted();
    REQUIRE(peer->send(c.request));
    auto reply = peer->read();
    REQUIRE(reply);
    REQUIRE(reply->has_error());
    CHECK_THAT(reply->error().message(), Catch::Contains(c.says));
    CHECK(peer->closed_by_server());
  }
  require_alive(server);
  // An honest client still syncs afterwards.
  auto planning = seed_programme(server);
  CHECK(planning.status().at("pending") == 0);
  require_alive(server);
}

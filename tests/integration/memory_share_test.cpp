// Memory that compressed pushes or one read-only device could take from everyone (Hardening
// II, item 3), against a real `ergond` (the ASan build): a zstd push that unpacks past a
// frame's size is refused before anything is unpacked; one enrolment's sessions together hold
// no more than the device's share of the frame budget, so an auditor's dozen half-sent 16 MiB
// frames leave room for everyone else; and one address cannot keep more connections logging in
// than its limit. Beside each flood an honest laptop keeps syncing.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/crypto/crypto.h"
#include "shared/wire/frame.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/raw_peer.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMiB = 1u << 20;

std::string device_bytes() {
  auto id = core::DeviceId::random().bytes();
  return {id.begin(), id.end()};
}

// An admitted raw peer of `token`.
std::unique_ptr<RawPeer> admitted(const RunningServer& server, const std::string& token,
                                  const std::string& device, const crypto::SigningKey& key) {
  auto peer = RawPeer::connect(server.port(), true);
  REQUIRE(peer);
  REQUIRE(peer->send(hello_message(token, device, key, peer->session_binding())));
  auto welcome = peer->read();
  REQUIRE(welcome);
  REQUIRE(welcome->has_welcome());
  return peer;
}

// The peak resident memory of a process (VmHWM), in bytes.
std::size_t peak_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

}  // namespace

TEST_CASE("compressed pushes and one device's sessions cannot take the server's memory",
          "[integration][hardening]") {
  // Under ASan freed memory waits in a quarantine (256 MiB by default) before it is reused: a
  // small one lets the peak measure what the server holds, as the release build would.
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=16").c_str(), 1);
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto laptop = server.add_client("laptop", "planning", "");
  laptop.sync();
  auto idle = peak_bytes(server.pid());
  auto key = crypto::generate_signing_key();
  auto device = device_bytes();

  SECTION("a few KB of zstd that unpack to 64.6 MB are refused before they are unpacked") {
    wire::Message push;
    push.set_request_id(2);
    auto* change = push.mutable_push()->add_changes();
    change->set_group("remarks");
    auto* value = change->add_values();
    value->set_name("remarks");
    value->set_value(std::string(64'600'000, '\0'));  // 64.6 MB, under the old 64 MiB cap
    auto frame = wire::encode_frame(push);
    INFO("the frame on the wire: " << frame.size() << " bytes");
    REQUIRE(frame.size() < 64 * 1024);
    auto token = server.enrol("directorate", "DTE", "zip bomb");
    for (int i = 0; i < 20; ++i) {
      auto peer = admitted(server, token, device, key);
      REQUIRE(peer->send(frame));
      auto reply = peer->read();
      REQUIRE(reply);
      REQUIRE(reply->has_error());
      CHECK_THAT(reply->error().message(), Catch::Contains("the limit is 16777216"));
    }
    CHECK(laptop.sync().at("digest") == server.verify().at("digest"));
  }

  SECTION("an auditor's twelve half-sent 16 MiB frames hold at most its device's share") {
    auto token = server.enrol("auditor", "", "greedy auditor");
    std::string almost(16 * kMiB - 8, 'x');  // a frame of 16 MiB - 4, all but its last byte
    std::string prefix = {char(0x00), char(0xff), char(0xff), char(0xfc)};
    std::vector<std::unique_ptr<RawPeer>> peers;
    for (int i = 0; i < 12; ++i) {
      peers.push_back(admitted(server, token, device, key));
      (void)peers.back()->send(prefix + almost);  // past the share the server stops reading
    }
    std::this_thread::sleep_for(500ms);
    for (int i = 0; i < 3; ++i) {  // the honest laptop, while the auditor holds its share
      ok(laptop, {"add", "title=Έργο δίπλα στην πλημμύρα " + std::to_string(i), "category=study",
                  "area=HER-CITY", "total_budget=10.000,00", "new_or_continuing=new",
                  "status=maturing", "priority=C", "directorate=DTE"});
      auto synced = laptop.run({"sync", "--json"});
      INFO(synced.err);
      REQUIRE(synced.status.ok());
      CHECK(parse_json(synced).at("accepted") == 1);
    }
    auto peak = peak_bytes(server.pid());
    INFO("the server's peak resident memory: " << peak / kMiB << " MiB (before: " << idle / kMiB
                                               << " MiB)");
    CHECK(peak < 300 * kMiB);
    CHECK(server.is_running());
  }
}

TEST_CASE("one address cannot keep more connections logging in than its limit",
          "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start(0, {"--max-logging-in-per-address", "8"});
  auto laptop = server.add_client("laptop", "directorate", "DTE");
  std::vector<std::unique_ptr<RawPeer>> stalled;
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(RawPeer::connect(server.port(), false));  // TCP, no TLS handshake
    REQUIRE(stalled.back());
  }
  std::this_thread::sleep_for(200ms);
  auto ninth = RawPeer::connect(server.port(), false);
  REQUIRE(ninth);
  CHECK(ninth->closed_by_server(2s));
  CHECK_FALSE(laptop.run({"sync"}).status.ok());  // the same address: refused too
  stalled.clear();
  std::this_thread::sleep_for(300ms);
  CHECK(laptop.run({"sync"}).status.ok());  // they closed: room again
}

// A change carries values of its own group only (issue: "values outside the change's group are
// applied"). Every role pushes, for every field group, a change of that group that also names
// a field of every other group, over a real TLS socket and in a crafted offline bundle that
// `ergond bundle apply` answers. Each is rejected with the reason naming the foreign field,
// before any other rule (so even a role that may edit neither group hears that reason), and
// the master's digest stays what it was.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/changelog/change.h"
#include "shared/core/ids.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"
#include "shared/wire/bundle.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/raw_peer.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

constexpr const char* kSaysForeign = "is not in the change's group";

// A value of the field that would be valid on its own: applied, each would change the master.
const std::map<std::string, std::string> kForeignValues = {
    {"directorate", "DPOL"},
    {"ka_code", "30-7323.777"},
    {"title", "Ξένος τίτλος"},
    {"category", "study"},
    {"new_or_continuing", "continuing"},
    {"area", "GOR-AGM"},
    {"total_budget", "999999.00"},
    {"paid_to_date", "1.00"},
    {"allocation", "5.00"},
    {"funding", "1099=5.00"},
    {"status", "tendering"},
    {"strategic_plans", "SMART"},
    {"predecessor_id", core::ProposalId::random().hex()},
    {"priority", "A"},
    {"remarks", "ξένη παρατήρηση"},
    {"state", "included"},
    {"decision_reason", "αποφασίστηκε από άλλη ομάδα"},
};

// Every field of a DTE draft of 2024, as a client's create carries them.
model::FieldValues dte_draft() {
  model::Proposal p;
  p.id = core::ProposalId::random();
  p.year = 2024;
  auto applied = model::apply_values(p, {{"directorate", "DTE"},
                                         {"title", "Πεζοδρόμηση οδού Δαιδάλου"},
                                         {"category", "work"},
                                         {"new_or_continuing", "new"},
                                         {"area", "HER-CITY"},
                                         {"total_budget", "100000.00"},
                                         {"status", "maturing"},
                                         {"priority", "B"},
                                         {"ka_code", "30-7323.601"}});
  REQUIRE(applied);
  return model::all_values(p);
}

struct Crafted {
  wire::Change change;
  std::string description;
};

// For every group, one change per other group: the group's own current values plus the first
// field of the other group with a value it would take.
std::vector<Crafted> foreign_changes(const model::FieldValues& current, const std::string& key,
                                     const wire::Revision& base) {
  std::vector<Crafted> crafted;
  for (auto group : model::all_groups()) {
    model::FieldValues own;
    for (auto field : model::fields_of_group(group))
      own[std::string(field)] = current.at(std::string(field));
    for (auto other : model::all_groups()) {
      if (other == group) continue;
      auto foreign = std::string(model::fields_of_group(other).front());
      auto values = own;
      values[foreign] = kForeignValues.at(foreign);
      crafted.push_back({change_of(wire::ENTITY_PROPOSAL, key, std::string(group), values, base),
                         "a '" + std::string(group) + "' change carrying " + foreign + "=" +
                             kForeignValues.at(foreign)});
    }
  }
  return crafted;
}

std::string device_bytes() {
  auto id = core::DeviceId::random().bytes();
  return {id.begin(), id.end()};
}

wire::Change numbered(wire::Change change, const std::string& device, std::uint64_t seq) {
  change.set_device_id(device);
  change.set_device_seq(seq);
  change.set_hlc_wall_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
  change.set_user("foreign fields");
  return change;
}

// A peer of `role` admitted over TLS, and what it gets back for each change pushed in one batch.
std::vector<wire::Outcome> push_as(RunningServer& server, const std::string& role,
                                   const std::string& directorate,
                                   const std::vector<wire::Change>& changes) {
  auto token = server.enrol(role, directorate, role + " peer");
  auto key = crypto::generate_signing_key();
  auto device = device_bytes();
  auto link = RawPeer::connect(server.port(), true);
  REQUIRE(link);
  REQUIRE(link->send(hello_message(token, device, key, link->session_binding())));
  auto welcome = link->read();
  REQUIRE(welcome);
  REQUIRE(welcome->has_welcome());
  wire::Message m;
  m.set_request_id(2);
  std::uint64_t seq = 0;
  for (const auto& change : changes)
    *m.mutable_push()->add_changes() = numbered(change, device, ++seq);
  REQUIRE(link->send(m));
  auto reply = link->read();
  REQUIRE(reply);
  INFO("error: " << reply->error().message());
  REQUIRE(reply->has_push_reply());
  return {reply->push_reply().outcomes().begin(), reply->push_reply().outcomes().end()};
}

// A directorate's offline bundle holding `changes`, signed as `ergon bundle export` signs one.
void write_request(const std::filesystem::path& path, const std::string& token,
                   const std::vector<wire::Change>& changes) {
  auto dot = token.find('.');
  REQUIRE(dot != std::string::npos);
  auto enrolment = token.substr(0, dot), secret = token.substr(dot + 1);
  auto key = crypto::generate_signing_key();
  auto device = device_bytes();
  auto nonce = crypto::random_bytes(16);
  wire::BundleRequest request;
  auto* hello = request.mutable_hello();
  hello->set_min_version(wire::kProtocolVersion);
  hello->set_max_version(wire::kProtocolVersion);
  hello->set_token(enrolment);
  hello->set_client_device_id(device);
  hello->set_user("foreign fields");
  hello->set_public_key(key.public_key);
  hello->set_proof(crypto::sign(key, wire::hello_proof_payload(nonce, device, enrolment)));
  request.set_nonce(nonce);
  auto* push = request.add_pushes();
  std::uint64_t seq = 0;
  for (const auto& change : changes) *push->add_changes() = numbered(change, device, ++seq);
  request.mutable_pull()->set_max_entries(1000);
  request.mutable_pull()->set_bootstrap(true);
  wire::BundleFile file;
  file.set_kind(static_cast<std::uint32_t>(wire::BundleKind::kRequest));
  file.set_body(request.SerializeAsString());
  file.set_mac(crypto::hmac_sha256(crypto::as_bytes(crypto::bundle_key(secret)), file.body()));
  file.set_signature(crypto::sign(key, file.body()));
  REQUIRE(wire::write_bundle(path, file));
}

void check_all_foreign(const std::vector<Crafted>& crafted,
                       const std::vector<wire::Outcome>& outcomes) {
  REQUIRE(outcomes.size() == crafted.size());
  for (std::size_t i = 0; i < crafted.size(); ++i) {
    INFO(crafted[i].description << ": " << wire::OutcomeKind_Name(outcomes[i].kind()) << " "
                                << outcomes[i].reason());
    CHECK(outcomes[i].kind() == wire::OUTCOME_REJECTED);
    CHECK_THAT(outcomes[i].reason(), Catch::Contains(kSaysForeign));
  }
}

}  // namespace

TEST_CASE("a change naming a field outside its group is rejected over the socket and by bundle",
          "[integration][hardening][foreign_fields]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();

  // The target: a DTE draft, created by planning; the changes' base is the log's head after it.
  auto current = dte_draft();
  auto key = current.at("id");
  auto setup = push_as(server, "planning", "",
                       {change_of(wire::ENTITY_PROPOSAL, key, std::string(changelog::kCreateGroup),
                                  current, std::nullopt)});
  REQUIRE(setup.size() == 1);
  REQUIRE(setup[0].kind() == wire::OUTCOME_ACCEPTED);
  auto crafted = foreign_changes(current, key, setup[0].position());
  REQUIRE(crafted.size() == 12 * 11);
  std::vector<wire::Change> changes;
  for (const auto& c : crafted) changes.push_back(c.change);
  auto digest = server.verify().at("digest");

  for (auto [role, directorate] : {std::pair("directorate", "DTE"), std::pair("planning", ""),
                                   std::pair("budget", ""), std::pair("auditor", "")}) {
    INFO("pushed over TLS by " << role << " " << directorate);
    check_all_foreign(crafted, push_as(server, role, directorate, changes));
  }
  CHECK(server.verify().at("digest") == digest);

  {  // the same changes carried by a directorate's USB stick
    auto in = dir.path() / "foreign.bundle", out = dir.path() / "foreign.answer";
    write_request(in, server.enrol("directorate", "DTE", "usb stick"), changes);
    auto applied = run_process({ergond_binary(), "bundle", "apply", "--data",
                                server.data().string(), in.string(), out.string()});
    INFO(applied.out << applied.err);
    REQUIRE(applied.exit_code() == 0);
    auto file = wire::read_bundle(out, wire::BundleKind::kAnswer);
    REQUIRE(file);
    wire::BundleAnswer answer;
    REQUIRE(answer.ParseFromString(file->body()));
    std::vector<wire::Outcome> outcomes;
    for (const auto& reply : answer.pushes())
      outcomes.insert(outcomes.end(), reply.outcomes().begin(), reply.outcomes().end());
    check_all_foreign(crafted, outcomes);
    CHECK(server.verify().at("digest") == digest);
  }
}

// #27: a change claiming to have seen beyond the server's log (a home of another server, or a
// forgery meant to overwrite unseen writes) is rejected, nothing moves, and the server serves on.
TEST_CASE("a change whose horizon lies beyond the server's log is rejected over the socket",
          "[integration][hardening][horizon]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto current = dte_draft();
  auto key = current.at("id");
  auto setup = push_as(server, "planning", "",
                       {change_of(wire::ENTITY_PROPOSAL, key, std::string(changelog::kCreateGroup),
                                  current, std::nullopt)});
  REQUIRE(setup.size() == 1);
  REQUIRE(setup[0].kind() == wire::OUTCOME_ACCEPTED);
  auto digest = server.verify().at("digest");

  wire::Revision beyond = setup[0].position();
  beyond.set_seq(beyond.seq() + 1000);
  auto refused =
      push_as(server, "planning", "",
              {change_of(wire::ENTITY_PROPOSAL, key, "remarks", {{"remarks", "ξένο"}}, beyond)});
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].kind() == wire::OUTCOME_REJECTED);
  CHECK_THAT(refused[0].reason(), Catch::Contains("beyond its last entry") &&
                                      Catch::Contains("synchronised with another server"));
  CHECK(server.verify().at("digest") == digest);

  // Another device, with a horizon the log holds, is served and accepted.
  auto fine = push_as(server, "planning", "",
                      {change_of(wire::ENTITY_PROPOSAL, key, "remarks", {{"remarks", "εντάξει"}},
                                 setup[0].position())});
  REQUIRE(fine.size() == 1);
  CHECK(fine[0].kind() == wire::OUTCOME_ACCEPTED);
}

// RequestRouter without sockets: a real MasterStore in a temp folder, devices enrolled and
// bound as a session would, and hello, ping, push, pull and stray messages handed to the router
// directly. Pushes are applied the way server/net/session.cpp applies them (MergeService on the
// store, then push_reply). Each refusal is checked for its code, and where the session shows the
// reason to a person, for its message.

#include "server/api/request_router.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "client/store/local_store.h"
#include "client/store/sync_state.h"
#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/changelog/change.h"
#include "shared/crypto/crypto.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"
#include "tests/support/fixtures.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using Catch::Matchers::Contains;
using core::ErrorCode;
using server::Admitted;
using server::PushJob;
using server::RequestRouter;
using server::Routed;

namespace {

template <class T>
T must(core::Result<T> r) {
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
  return std::move(*r);
}

void must(core::Status s) {
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
}

std::string bytes_of(const core::DeviceId& id) {
  return std::string(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size());
}

// An enrolment and the client that holds its token: its own device id and key.
struct Device {
  std::string enrolled_id;
  std::string token;
  core::DeviceId client_id = core::DeviceId::random();
  crypto::SigningKey key = crypto::generate_signing_key();
};

// The hello a client sends: versions, token, device id, key, and the key's proof over
// `binding` (the TLS exporter in a real session).
wire::Hello hello_of(const Device& d, std::string_view binding) {
  wire::Hello h;
  h.set_min_version(wire::kProtocolVersion);
  h.set_max_version(wire::kProtocolVersion);
  h.set_token(d.token);
  h.set_client_device_id(bytes_of(d.client_id));
  h.set_user("Χρήστης");
  h.set_public_key(d.key.public_key);
  h.set_proof(
      crypto::sign(d.key, wire::hello_proof_payload(binding, h.client_device_id(), d.enrolled_id)));
  return h;
}

constexpr std::string_view kBinding = "tls-exporter-of-this-session";

class World {
 public:
  World() {
    store_ = std::make_unique<server::MasterStore>(
        must(server::MasterStore::create(dir_ / "server", testing::reference_dir(), 2024,
                                         core::system_clock(), storage::Durability::kNormal)));
    merge_ = std::make_unique<server::MergeService>(*store_);
  }

  server::MasterStore& store() { return *store_; }
  server::MergeService& merge() { return *merge_; }
  const testing::TempDir& dir() const { return dir_; }

  Device enrol(merge::Role role, const std::string& directorate) {
    auto e = must(store_->enrol(role, directorate, "device"));
    Device d;
    d.enrolled_id = e.device_id;
    d.token = e.token;
    return d;
  }

  // What Session::admit and Session::bind do: admit the hello, bind the enrolment if needed.
  Admitted admit_and_bind(RequestRouter& router, const Device& d) {
    auto admitted = router.admit(hello_of(d, kBinding), kBinding);
    INFO((admitted ? std::string() : admitted.error().message));
    REQUIRE(admitted);
    if (admitted->needs_binding)
      must(store_->bind(admitted->record.device_id, admitted->context.device_id,
                        admitted->public_key));
    return std::move(*admitted);
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<server::MasterStore> store_;
  std::unique_ptr<server::MergeService> merge_;
};

core::Error refusal_of(const core::Result<Admitted>& admitted) {
  REQUIRE_FALSE(admitted);
  return admitted.error();
}

// A client home whose key and device id are bound to a DTE enrolment, with `count` proposals
// created offline (one change each), as a device that pushes real changes.
struct Client {
  Device device;
  std::unique_ptr<client::LocalStore> store;
};

Client client_with_changes(World& w, std::size_t count, std::size_t title_bytes = 20) {
  Client c;
  c.device = w.enrol(merge::Role::kDirectorate, "DTE");
  client::InitOptions options{"DTE", "Χρήστης", 2024, testing::reference_dir()};
  c.store = std::make_unique<client::LocalStore>(
      must(client::LocalStore::init(w.dir() / "client", options)));
  c.device.client_id = c.store->device().device_id;
  c.device.key = must(c.store->device_key());
  must(client::SyncState(*c.store).set_identity(merge::Role::kDirectorate, "DTE", 2024));
  for (std::size_t i = 0; i < count; ++i) {
    auto title = "Έργο " + std::to_string(i) + " " + std::string(title_bytes, 'x');
    must(c.store->create(testing::a_work(title)));
  }
  return c;
}

wire::Message push_of(const std::vector<changelog::Change>& changes, std::uint64_t request_id) {
  wire::Message m;
  m.set_request_id(request_id);
  auto* push = m.mutable_push();
  for (const auto& c : changes) wire::to_proto(c, push->add_changes());
  return m;
}

wire::Message pull_of(std::uint64_t cursor, std::uint64_t request_id = 1) {
  wire::Message m;
  m.set_request_id(request_id);
  m.mutable_pull()->set_cursor(cursor);
  return m;
}

// The reply a routed request became; fails the test for a push job or a refusal.
wire::Message reply_of(core::Result<Routed> routed) {
  INFO((routed ? std::string() : routed.error().message));
  REQUIRE(routed);
  REQUIRE(std::holds_alternative<wire::Message>(*routed));
  return std::get<wire::Message>(std::move(*routed));
}

// Pushes the client's pending changes through the router and applies the job as the session
// does; returns the push reply.
wire::Message push_pending(World& w, RequestRouter& router, const Admitted& admitted, Client& c) {
  auto pending = must(client::SyncState(*c.store).pending_changes(1'000'000));
  auto routed = router.handle(push_of(pending, 5), admitted);
  REQUIRE(routed);
  auto* job = std::get_if<PushJob>(&*routed);
  REQUIRE(job);
  auto outcomes = must(w.merge().apply_batch(admitted.context, job->changes));
  return router.push_reply(job->request_id, outcomes);
}

}  // namespace

TEST_CASE("admit refuses a hello whose version range leaves out the server's", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto d = w.enrol(merge::Role::kPlanning, "");

  auto newer = hello_of(d, kBinding);
  newer.set_min_version(wire::kProtocolVersion + 1);
  newer.set_max_version(wire::kProtocolVersion + 3);
  auto refused = refusal_of(router.admit(newer, kBinding));
  CHECK(refused.code == ErrorCode::kVersionMismatch);
  CHECK_THAT(refused.message, Contains(std::to_string(wire::kProtocolVersion + 1) + " to " +
                                       std::to_string(wire::kProtocolVersion + 3)) &&
                                  Contains("upgrade"));

  auto older = hello_of(d, kBinding);
  older.set_min_version(0);
  older.set_max_version(wire::kProtocolVersion - 1);
  auto too_old = refusal_of(router.admit(older, kBinding));
  CHECK(too_old.code == ErrorCode::kVersionMismatch);
  CHECK_THAT(too_old.message, Contains("upgrade the older side"));

  // The same hello with a range around the server's version is admitted.
  auto around = hello_of(d, kBinding);
  around.set_min_version(0);
  around.set_max_version(wire::kProtocolVersion + 1);
  CHECK(router.admit(around, kBinding));
}

TEST_CASE("admit refuses an unknown, wrong or revoked token", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto d = w.enrol(merge::Role::kDirectorate, "DTE");
  auto secret = d.token.substr(d.token.find('.') + 1);

  SECTION("an enrolment the server never made") {
    auto stranger = d;
    stranger.enrolled_id = std::string(d.enrolled_id.size(), 'a');
    stranger.token = stranger.enrolled_id + "." + secret;
    auto refused = refusal_of(router.admit(hello_of(stranger, kBinding), kBinding));
    CHECK(refused.code == ErrorCode::kUnauthenticated);
    CHECK_THAT(refused.message, Contains("token was refused"));
  }
  SECTION("the right enrolment with another secret") {
    auto guessed = d;
    guessed.token = d.enrolled_id + "." + std::string(secret.size(), '0');
    CHECK(refusal_of(router.admit(hello_of(guessed, kBinding), kBinding)).code ==
          ErrorCode::kUnauthenticated);
  }
  SECTION("no token, or no dot in it") {
    for (std::string token : {std::string(), d.enrolled_id, d.enrolled_id + secret}) {
      INFO(token);
      auto broken = d;
      broken.token = token;
      CHECK(refusal_of(router.admit(hello_of(broken, kBinding), kBinding)).code ==
            ErrorCode::kUnauthenticated);
    }
  }
  SECTION("a revoked enrolment") {
    REQUIRE(router.admit(hello_of(d, kBinding), kBinding));
    must(w.store().revoke(d.enrolled_id));
    CHECK(refusal_of(router.admit(hello_of(d, kBinding), kBinding)).code ==
          ErrorCode::kUnauthenticated);
  }
}

TEST_CASE("admit refuses a hello without a proof of the device key", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto d = w.enrol(merge::Role::kDirectorate, "DTE");

  auto no_proof = hello_of(d, kBinding);
  no_proof.clear_proof();
  auto refused = refusal_of(router.admit(no_proof, kBinding));
  CHECK(refused.code == ErrorCode::kUnauthenticated);
  CHECK_THAT(refused.message, Contains("did not prove it holds its device key"));

  auto no_key = hello_of(d, kBinding);
  no_key.clear_public_key();
  CHECK(refusal_of(router.admit(no_key, kBinding)).code == ErrorCode::kUnauthenticated);

  // Signed by another key than the one the hello names.
  auto forged = hello_of(d, kBinding);
  forged.set_public_key(crypto::generate_signing_key().public_key);
  CHECK(refusal_of(router.admit(forged, kBinding)).code == ErrorCode::kUnauthenticated);

  auto short_id = hello_of(d, kBinding);
  short_id.set_client_device_id("0123456789abcde");
  CHECK(refusal_of(router.admit(short_id, kBinding)).code == ErrorCode::kProtocol);
}

TEST_CASE("admit refuses a proof made over another session's binding", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto d = w.enrol(merge::Role::kDirectorate, "DTE");
  auto replayed = hello_of(d, "the session where the proof was seen");

  auto refused = refusal_of(router.admit(replayed, kBinding));
  CHECK(refused.code == ErrorCode::kUnauthenticated);
  CHECK(refusal_of(router.admit(replayed, "")).code == ErrorCode::kUnauthenticated);
  // The very same hello is good in the session it was made for.
  CHECK(router.admit(replayed, "the session where the proof was seen"));

  // A proof over the right session but naming another enrolment than the token's.
  auto other = w.enrol(merge::Role::kDirectorate, "DTE");
  auto crossed = d;
  crossed.enrolled_id = other.enrolled_id;
  CHECK(refusal_of(router.admit(hello_of(crossed, kBinding), kBinding)).code ==
        ErrorCode::kUnauthenticated);
}

TEST_CASE("an admitted device is welcomed with its role, directorate and the year", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto d = w.enrol(merge::Role::kDirectorate, "DTE");

  auto first = router.admit(hello_of(d, kBinding), kBinding);
  REQUIRE(first);
  CHECK(first->needs_binding);
  CHECK(first->record.device_id == d.enrolled_id);
  CHECK(first->context.device_id == d.client_id);
  CHECK(first->context.permission.role == merge::Role::kDirectorate);
  CHECK(first->context.permission.directorate == "DTE");
  CHECK(first->public_key == d.key.public_key);
  must(w.store().bind(first->record.device_id, first->context.device_id, first->public_key));

  auto admitted = router.admit(hello_of(d, kBinding), kBinding);
  REQUIRE(admitted);
  CHECK_FALSE(admitted->needs_binding);  // bound now: the next hello binds nothing
  auto welcome = must(router.welcome(42, *admitted));
  CHECK(welcome.request_id() == 42);
  REQUIRE(welcome.has_welcome());
  const auto& wl = welcome.welcome();
  CHECK(wl.version() == wire::kProtocolVersion);
  CHECK(wl.role() == "directorate");
  CHECK(wl.directorate() == "DTE");
  CHECK(wl.year() == 2024);
  CHECK(wl.server_id() == w.store().info().server_id);
  CHECK(wl.epoch() == w.store().info().epoch);
  CHECK(wl.enrolled_device_id() == d.enrolled_id);
  CHECK(wl.high_water_mark() == 0);

  // A planning device has no directorate; its welcome says so.
  auto planning = w.enrol(merge::Role::kPlanning, "");
  auto p = w.admit_and_bind(router, planning);
  auto pw = must(router.welcome(1, p));
  CHECK(pw.welcome().role() == "planning");
  CHECK(pw.welcome().directorate().empty());

  // Once bound, the token opens no session for another client, even one with a valid proof.
  auto thief = d;
  thief.client_id = core::DeviceId::random();
  thief.key = crypto::generate_signing_key();
  auto refused = refusal_of(router.admit(hello_of(thief, kBinding), kBinding));
  CHECK(refused.code == ErrorCode::kUnauthenticated);
  CHECK_THAT(refused.message, Contains("another client"));
  // Nor for this client's id with another key (a copied home).
  auto copied = d;
  copied.key = crypto::generate_signing_key();
  CHECK_THAT(refusal_of(router.admit(hello_of(copied, kBinding), kBinding)).message,
             Contains("another device key"));
}

TEST_CASE("the enrolment of a token is its hex prefix, or nothing", "[router]") {
  CHECK(RequestRouter::enrolment_of("0a1b2c.secret") == "0a1b2c");
  CHECK(RequestRouter::enrolment_of("0a1b2c") == "0a1b2c");
  CHECK(RequestRouter::enrolment_of("").empty());
  CHECK(RequestRouter::enrolment_of(".secret").empty());
  CHECK(RequestRouter::enrolment_of("ZZ\n.secret").empty());  // never a log line of a peer's
  CHECK(RequestRouter::enrolment_of(std::string(200, 'a')).size() == 64);
}

TEST_CASE("a ping is answered with a pong of the same request id", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto admitted = w.admit_and_bind(router, w.enrol(merge::Role::kAuditor, ""));
  wire::Message ping;
  ping.set_request_id(77);
  ping.mutable_ping();
  auto pong = reply_of(router.handle(ping, admitted));
  CHECK(pong.request_id() == 77);
  CHECK(pong.has_pong());
}

TEST_CASE("a push becomes a job of its decoded changes, and applied it has an outcome each",
          "[router]") {
  World w;
  RequestRouter router(w.store());
  auto c = client_with_changes(w, 3);
  auto admitted = w.admit_and_bind(router, c.device);
  auto pending = must(client::SyncState(*c.store).pending_changes(1'000'000));
  REQUIRE(pending.size() == 3);

  auto routed = router.handle(push_of(pending, 9), admitted);
  REQUIRE(routed);
  auto* job = std::get_if<PushJob>(&*routed);
  REQUIRE(job);
  CHECK(job->request_id == 9);
  CHECK(job->changes == pending);  // every field survives the wire both ways

  // Nothing is written until the job runs (on the store writer, in a session).
  CHECK(must(w.store().last_seq()) == 0);
  auto outcomes = must(w.merge().apply_batch(admitted.context, job->changes));
  auto reply = router.push_reply(job->request_id, outcomes);
  CHECK(reply.request_id() == 9);
  REQUIRE(reply.has_push_reply());
  REQUIRE(reply.push_reply().outcomes_size() == 3);
  for (int i = 0; i < 3; ++i) {
    const auto& o = reply.push_reply().outcomes(i);
    CHECK(o.change_id() == changelog::change_id(pending[static_cast<std::size_t>(i)]));
    CHECK(o.kind() == 0);  // accepted
    CHECK(o.position().seq() == static_cast<std::uint64_t>(i + 1));
    CHECK_FALSE(o.duplicate());
  }
  CHECK(must(w.store().last_seq()) == 3);
  CHECK(must(w.store().device(c.device.enrolled_id)).high_water_mark == 3);

  // The same batch again: the original outcomes, flagged as duplicates, nothing logged twice.
  auto again = push_pending(w, router, admitted, c);
  REQUIRE(again.push_reply().outcomes_size() == 3);
  CHECK(again.push_reply().outcomes(0).duplicate());
  CHECK(again.push_reply().outcomes(2).position().seq() == 3);
  CHECK(must(w.store().last_seq()) == 3);
}

TEST_CASE("a push above the batch cap or with a malformed change is refused whole", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto c = client_with_changes(w, 1);
  auto admitted = w.admit_and_bind(router, c.device);
  auto pending = must(client::SyncState(*c.store).pending_changes(1));

  std::vector<changelog::Change> too_many(server::kMaxBatchChanges + 1, pending[0]);
  auto big = router.handle(push_of(too_many, 1), admitted);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == ErrorCode::kTooLarge);
  CHECK_THAT(big.error().message, Contains(std::to_string(server::kMaxBatchChanges + 1)));

  auto bad = push_of(pending, 2);
  bad.mutable_push()->mutable_changes(0)->set_device_id("short");
  auto malformed = router.handle(bad, admitted);
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().code == ErrorCode::kProtocol);
  CHECK(must(w.store().last_seq()) == 0);
}

TEST_CASE("a pull cursor at or above 2^63 is refused, not read as the whole log", "[router]") {
  World w;
  RequestRouter router(w.store());
  auto c = client_with_changes(w, 2);
  auto admitted = w.admit_and_bind(router, c.device);
  push_pending(w, router, admitted, c);

  constexpr auto kFirstBeyond = std::uint64_t{1} << 63;
  for (auto cursor : {kFirstBeyond, kFirstBeyond + 1, std::numeric_limits<std::uint64_t>::max()}) {
    INFO(cursor);
    auto routed = router.handle(pull_of(cursor), admitted);
    REQUIRE_FALSE(routed);
    CHECK(routed.error().code == ErrorCode::kProtocol);
    CHECK_THAT(routed.error().message,
               Contains(std::to_string(cursor)) && Contains("beyond any log position"));
  }
  // The largest position SQLite holds is a valid (empty) place to pull from.
  auto last = reply_of(router.handle(pull_of(kFirstBeyond - 1), admitted));
  CHECK(last.pull_reply().entries_size() == 0);
  CHECK(last.pull_reply().last_page());
  CHECK(last.pull_reply().head_seq() == 2);
  // And a cursor of 0 reads the log from its start.
  CHECK(reply_of(router.handle(pull_of(0), admitted)).pull_reply().entries_size() == 2);
}

TEST_CASE("a pull page stops adding entries once past the router's page bytes", "[router]") {
  constexpr std::size_t kChanges = 40;
  constexpr std::size_t kPageBytes = 8 * 1024;
  World w;
  RequestRouter unbounded(w.store());
  auto c = client_with_changes(w, kChanges, 450);  // titles near their 500-character cap
  auto admitted = w.admit_and_bind(unbounded, c.device);
  push_pending(w, unbounded, admitted, c);

  // With the default bound all of them fit one page.
  auto whole = reply_of(unbounded.handle(pull_of(0), admitted));
  REQUIRE(whole.pull_reply().entries_size() == static_cast<int>(kChanges));
  CHECK(whole.pull_reply().last_page());
  std::size_t largest = 0;
  for (const auto& e : whole.pull_reply().entries()) largest = std::max(largest, e.ByteSizeLong());
  REQUIRE(whole.pull_reply().ByteSizeLong() > 2 * kPageBytes);

  RequestRouter bounded(w.store(), kPageBytes);
  std::uint64_t cursor = 0;
  std::vector<std::uint64_t> seen;
  int pages = 0;
  for (;;) {
    REQUIRE(++pages <= static_cast<int>(kChanges));
    auto page =
        reply_of(bounded.handle(pull_of(cursor, static_cast<std::uint64_t>(pages)), admitted));
    CHECK(page.request_id() == static_cast<std::uint64_t>(pages));
    const auto& reply = page.pull_reply();
    INFO("page " << pages << ": " << reply.entries_size() << " entries, " << reply.ByteSizeLong()
                 << " bytes");
    REQUIRE(reply.entries_size() > 0);  // a page always makes progress
    // It stops adding once past the bound: at most one entry (and its tag and length) over it.
    CHECK(reply.ByteSizeLong() <= kPageBytes + largest + 8);
    for (const auto& e : reply.entries()) seen.push_back(e.outcome().position().seq());
    cursor = seen.back();
    if (reply.last_page()) {
      CHECK(reply.digest().size() == 32);  // only the last page carries the digest
      break;
    }
    CHECK(reply.digest().empty());
  }
  CHECK(pages > 2);
  // Every entry once, in order: the pages join up without a gap.
  REQUIRE(seen.size() == kChanges);
  for (std::size_t i = 0; i < kChanges; ++i) CHECK(seen[i] == i + 1);
}

TEST_CASE("history and audit verify are answered; malformed ones are refused, not run",
          "[router][audit]") {
  World w;
  RequestRouter router(w.store());
  auto c = client_with_changes(w, 3);
  auto admitted = w.admit_and_bind(router, c.device);
  push_pending(w, router, admitted, c);

  wire::Message history;
  history.set_request_id(7);
  history.mutable_history()->set_limit(2);
  auto first = reply_of(router.handle(history, admitted));
  REQUIRE(first.has_history_reply());
  CHECK(first.history_reply().events_size() == 2);
  CHECK(first.history_reply().more());
  CHECK(first.history_reply().events(0).kind() == "create");
  CHECK(first.history_reply().events(0).enrolment() == c.device.enrolled_id);
  history.mutable_history()->set_after_seq(first.history_reply().next_after());
  auto second = reply_of(router.handle(history, admitted));
  CHECK(second.history_reply().events_size() == 1);
  CHECK_FALSE(second.history_reply().more());

  std::vector<wire::Message> bad(4);
  bad[0].mutable_history()->set_after_seq(std::uint64_t{1} << 63);
  bad[1].mutable_history()->set_since_ms(-1);
  bad[2].mutable_history()->set_entity(std::string(10'000, 'x'));
  bad[3].mutable_audit_verify()->set_held_hash("short");
  bad[3].mutable_audit_verify()->mutable_held()->set_seq(1);
  for (auto& m : bad) {
    INFO(m.ShortDebugString().substr(0, 200));
    auto routed = router.handle(m, admitted);
    REQUIRE_FALSE(routed);
    CHECK(routed.error().code == ErrorCode::kProtocol);
  }

  wire::Message verify;
  verify.mutable_audit_verify();
  auto report = reply_of(router.handle(verify, admitted));
  REQUIRE(report.has_audit_verify_reply());
  CHECK(report.audit_verify_reply().ok());
  CHECK(report.audit_verify_reply().rows() == 3);
  // A head this log never had: a problem in the report, not an error of the request.
  verify.mutable_audit_verify()->mutable_held()->set_epoch(1);
  verify.mutable_audit_verify()->mutable_held()->set_seq(9);
  verify.mutable_audit_verify()->set_held_hash(std::string(32, '\x01'));
  auto cut = reply_of(router.handle(verify, admitted));
  CHECK_FALSE(cut.audit_verify_reply().ok());
  CHECK_THAT(cut.audit_verify_reply().problem(), Contains("were removed"));
}

namespace {

// A stage move as the session runs it: on the store (the writer's, here the same).
core::Result<wire::Message> run_move(RequestRouter& router, server::MasterStore& store,
                                     const Admitted& admitted, const std::string& action,
                                     const std::string& target, const std::string& number = {}) {
  wire::Message m;
  m.set_request_id(5);
  m.mutable_stage_move()->set_action(action);
  m.mutable_stage_move()->set_target(target);
  m.mutable_stage_move()->mutable_decision()->set_number(number);
  if (!number.empty()) m.mutable_stage_move()->mutable_decision()->set_date("2024-02-20");
  auto routed = router.handle(m, admitted);
  if (!routed) return core::fail(routed.error());
  auto* job = std::get_if<server::WriteJob>(&*routed);
  REQUIRE(job);
  return job->work(store);
}

}  // namespace

TEST_CASE("stages, stage moves and programmes are answered; refusals are errors, not crashes",
          "[router][stages]") {
  World w;
  RequestRouter router(w.store());
  auto c = client_with_changes(w, 2);
  auto directorate = w.admit_and_bind(router, c.device);
  push_pending(w, router, directorate, c);
  auto planner = w.enrol(merge::Role::kPlanning, "");
  auto planning = w.admit_and_bind(router, planner);

  auto refused = run_move(router, w.store(), directorate, "advance", "draft");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kPermissionDenied);
  CHECK_THAT(refused.error().message, Contains("only planning"));
  auto draft = must(run_move(router, w.store(), planning, "advance", "draft"));
  REQUIRE(draft.has_stage_move_reply());
  CHECK(draft.request_id() == 5);
  CHECK(draft.stage_move_reply().record().name() == "draft-1");
  CHECK(draft.stage_move_reply().record().proposals() == 2);
  CHECK(draft.stage_move_reply().record().chain_head().size() == 32);
  auto out_of_order = run_move(router, w.store(), planning, "advance", "approved", "1/2024");
  REQUIRE_FALSE(out_of_order);
  CHECK(out_of_order.error().code == ErrorCode::kStageLocked);

  wire::Message stages;
  stages.mutable_stages();
  auto listed = reply_of(router.handle(stages, directorate));  // any role reads them
  REQUIRE(listed.has_stages_reply());
  CHECK(listed.stages_reply().years(0).stage() == "draft-1");
  CHECK(listed.stages_reply().records_size() == 1);

  wire::Message programme;
  programme.mutable_programme()->set_stage("draft");
  auto frozen = reply_of(router.handle(programme, directorate));
  REQUIRE(frozen.has_programme_reply());
  CHECK(frozen.programme_reply().proposals_size() == 2);
  CHECK(frozen.programme_reply().stage().name() == "draft-1");

  std::vector<wire::Message> bad(7);
  bad[0].mutable_stage_move()->set_action("explode");
  bad[1].mutable_stage_move()->set_action("advance");
  bad[1].mutable_stage_move()->set_user(std::string(10'000, 'x'));
  bad[2].mutable_programme()->set_as_of_ms(-5);
  bad[3].mutable_programme()->set_stage(std::string(10'000, 'x'));
  bad[4].mutable_programme()->set_stage("approved");  // not frozen
  bad[5].mutable_programme()->set_year(1999);         // not open
  bad[6].mutable_stages()->set_year(1999);
  for (auto& m : bad) {
    INFO(m.ShortDebugString().substr(0, 200));
    auto routed = router.handle(m, planning);
    REQUIRE_FALSE(routed);
    CHECK((routed.error().code == ErrorCode::kProtocol ||
           routed.error().code == ErrorCode::kNotFound));
  }
}

TEST_CASE("a message the router does not take after the welcome is an error, not a crash",
          "[router]") {
  World w;
  RequestRouter router(w.store());
  auto d = w.enrol(merge::Role::kDirectorate, "DTE");
  auto admitted = w.admit_and_bind(router, d);

  std::vector<wire::Message> strays(11);
  *strays[0].mutable_hello() = hello_of(d, kBinding);  // a second hello
  strays[1].mutable_welcome()->set_role("planning");
  strays[2].mutable_push_reply();
  strays[3].mutable_pull_reply();
  strays[4].mutable_error()->set_message("no");
  // strays[5]: no body at all
  strays[6].mutable_history_reply();
  strays[7].mutable_audit_verify_reply();
  strays[8].mutable_stages_reply();
  strays[9].mutable_stage_move_reply();
  strays[10].mutable_programme_reply();
  std::uint64_t id = 100;
  for (auto& m : strays) {
    m.set_request_id(++id);
    INFO(m.ShortDebugString());
    auto routed = router.handle(m, admitted);
    REQUIRE_FALSE(routed);
    CHECK(routed.error().code == ErrorCode::kProtocol);
    CHECK_THAT(routed.error().message, Contains("expected ping, push, pull"));
    // What the session sends back: an error frame for that request.
    auto frame = wire::error_message(id, routed.error());
    CHECK(frame.request_id() == id);
    REQUIRE(frame.has_error());
    CHECK(frame.error().code() == wire::PROTOCOL);
  }
  // The router is still good for the session's next request.
  wire::Message ping;
  ping.mutable_ping();
  CHECK(reply_of(router.handle(ping, admitted)).has_pong());
}

TEST_CASE("a rejected change's values reach its own device, planning and auditors only",
          "[router][audit][hardening]") {
  World w;
  RequestRouter router(w.store());
  auto dte = w.admit_and_bind(router, w.enrol(merge::Role::kDirectorate, "DTE"));
  changelog::Change create;
  create.device_id = dte.context.device_id;
  create.device_seq = 1;
  create.entity = {changelog::EntityKind::kProposal, core::ProposalId::random().hex()};
  create.group = std::string(changelog::kCreateGroup);
  create.values = {{"directorate", "DTE"}, {"title", "Απόρρητο σχέδιο της Διεύθυνσης"}};
  create.user = "Μαρία Παπαδάκη";
  auto outcomes = must(w.merge().apply_batch(dte.context, std::span(&create, 1)));
  REQUIRE(outcomes.at(0).kind == changelog::OutcomeKind::kRejected);

  auto seen_by = [&](const Admitted& who) {
    wire::Message history;
    history.set_request_id(3);
    history.mutable_history();
    auto reply = reply_of(router.handle(history, who));
    REQUIRE(reply.has_history_reply());
    for (const auto& e : reply.history_reply().events())
      if (e.kind() == "rejected") {
        CHECK_FALSE(e.reason().empty());  // everyone learns that, and why
        return e.fields_size();
      }
    FAIL("no rejected event in the history");
    return 0;
  };
  CHECK(seen_by(dte) > 0);
  CHECK(seen_by(w.admit_and_bind(router, w.enrol(merge::Role::kPlanning, ""))) > 0);
  CHECK(seen_by(w.admit_and_bind(router, w.enrol(merge::Role::kAuditor, ""))) > 0);
  CHECK(seen_by(w.admit_and_bind(router, w.enrol(merge::Role::kDirectorate, "DPOL"))) == 0);
  CHECK(seen_by(w.admit_and_bind(router, w.enrol(merge::Role::kBudget, ""))) == 0);
}

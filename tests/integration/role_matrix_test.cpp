// DESIGN.md's role table ("Who may change what"), row by row, against a real `ergond` over TLS.
// Raw peers of every role push hand-built changes that the CLI would refuse offline, so what is
// tested is the server's own enforcement. Each row names the role, the change and the outcome
// the table requires (for a refusal, a piece of the reason the server gives). Afterwards a
// planning client syncs, and the master must show every accepted change and none of the
// refused ones.

#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/changelog/change.h"
#include "shared/core/ids.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/raw_peer.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// Who pushes: the owning directorate (DTE), another directorate (DPOL), the central roles.
enum class Actor { kOwn, kOther, kPlanning, kBudget, kAuditor };
using enum Actor;
constexpr const char* kActors[] = {"directorate DTE", "directorate DPOL", "planning", "budget",
                                   "auditor"};

struct Row {
  Actor actor;
  const char* change;  // a group edited, `state=…`, `create for …`, resolve, envelope or ack
  const char* on;      // what it is about, made fresh for the row (the proposals are DTE's)
  bool accepted;
  const char* reason;  // for a refusal: a piece of the reason the server gives
};

constexpr const char* kSaysAuditor = "auditors read everything and change nothing";
constexpr const char* kSaysNotOwn = "a directorate changes only its own proposals";
constexpr const char* kSaysUndecided = "only while draft or submitted and undecided";
constexpr const char* kSaysBudgetState = "budget does not submit, withdraw or decide proposals";
constexpr const char* kSaysEnvelopes = "only budget sets the envelopes";
constexpr const char* kSaysAckers =
    "only planning (and budget, for money flags) acknowledges flags";

// DESIGN.md's table, one role and change a row, on a target made fresh for the row.
constexpr Row kRows[] = {
    // create a proposal: a directorate for itself, planning for any; budget, auditor never
    {kOwn, "create for DTE", "", true, ""},
    {kOwn, "create for DPOL", "", false, "a directorate creates proposals only for itself (DTE)"},
    {kPlanning, "create for DPOL", "", true, ""},
    {kBudget, "create for DTE", "", false, "budget does not create proposals"},
    {kAuditor, "create for DTE", "", false, kSaysAuditor},

    // descriptive fields: a directorate while draft or submitted and undecided; planning
    {kOwn, "title", "draft", true, ""},
    {kOwn, "title", "submitted", true, ""},
    {kOwn, "remarks", "submitted", true, ""},
    {kOwn, "title", "included", false, kSaysUndecided},
    {kOwn, "remarks", "included", false, kSaysUndecided},
    {kOther, "title", "draft", false, kSaysNotOwn},
    {kPlanning, "title", "included", true, ""},
    {kBudget, "title", "draft", false, "budget changes money, funding and ΚΑ codes, not 'title'"},
    {kAuditor, "title", "draft", false, kSaysAuditor},

    // money group: a directorate while undecided; planning and budget always
    {kOwn, "money", "draft", true, ""},
    {kOwn, "money", "submitted", true, ""},
    {kOwn, "money", "included", false, kSaysUndecided},
    {kOther, "money", "draft", false, kSaysNotOwn},
    {kPlanning, "money", "included", true, ""},
    {kBudget, "money", "included", true, ""},
    {kAuditor, "money", "draft", false, kSaysAuditor},

    // classification group: a directorate while draft; planning and budget always
    {kOwn, "classification", "draft", true, ""},
    {kOwn, "classification", "submitted", false,
     "changes category and ΚΑ code only while it is a draft"},
    {kOther, "classification", "draft", false, kSaysNotOwn},
    {kPlanning, "classification", "submitted", true, ""},
    {kBudget, "classification", "submitted", true, ""},
    {kAuditor, "classification", "draft", false, kSaysAuditor},

    // submit and withdraw: a directorate before a decision; planning
    {kOwn, "state=submitted", "draft", true, ""},
    {kOwn, "state=withdrawn", "submitted", true, ""},
    {kOwn, "state=withdrawn", "included", false, kSaysUndecided},
    {kOther, "state=submitted", "draft", false, kSaysNotOwn},
    {kPlanning, "state=submitted", "draft", true, ""},
    {kPlanning, "state=withdrawn", "submitted", true, ""},
    {kBudget, "state=submitted", "draft", false, kSaysBudgetState},
    {kBudget, "state=withdrawn", "submitted", false, kSaysBudgetState},
    {kAuditor, "state=submitted", "draft", false, kSaysAuditor},

    // decide: planning only
    {kPlanning, "state=included", "submitted", true, ""},
    {kPlanning, "state=deferred", "submitted", true, ""},
    {kOwn, "state=included", "submitted", false, "only planning decides"},
    {kOther, "state=included", "submitted", false, kSaysNotOwn},
    {kBudget, "state=included", "submitted", false, kSaysBudgetState},
    {kAuditor, "state=included", "submitted", false, kSaysAuditor},

    // resolve a conflict: a directorate on its own, planning any, budget on money
    {kOwn, "resolve", "money conflict", true, ""},
    {kOther, "resolve", "money conflict", false, "settles conflicts on its own proposals only"},
    {kPlanning, "resolve", "money conflict", true, ""},
    {kPlanning, "resolve", "classification conflict", true, ""},
    {kBudget, "resolve", "money conflict", true, ""},
    {kBudget, "resolve", "classification conflict", false,
     "budget settles conflicts on money only"},
    {kAuditor, "resolve", "money conflict", false, kSaysAuditor},

    // envelopes: budget only
    {kBudget, "envelope", "", true, ""},
    {kPlanning, "envelope", "", false, kSaysEnvelopes},
    {kOwn, "envelope", "", false, kSaysEnvelopes},
    {kAuditor, "envelope", "", false, kSaysEnvelopes},

    // acknowledge a flag: planning any, budget money flags
    {kPlanning, "ack", "money flag", true, ""},
    {kPlanning, "ack", "ΚΑ-code flag", true, ""},
    {kBudget, "ack", "money flag", true, ""},
    {kBudget, "ack", "ΚΑ-code flag", false, "budget acknowledges money (envelope) flags only"},
    {kOwn, "ack", "money flag", false, kSaysAckers},
    {kAuditor, "ack", "money flag", false, kSaysAckers},
};

std::string describe(const Row& row) {
  return std::string(kActors[static_cast<int>(row.actor)]) + " " + row.change +
         (*row.on ? std::string(" on ") + row.on : "") + ": " +
         (row.accepted ? "accepted" : std::string("rejected, '") + row.reason + "'");
}

// Funding sources nothing else in this test uses, one per envelope or money-flag row.
constexpr const char* kSources[] = {"AT01", "AT02", "AT04", "AT05", "AT07", "AT08", "AT09",
                                    "AT10", "AT11", "AT12", "AT13", "P001", "P002", "P003"};

// A raw peer admitted with its own device id and key, numbering its changes itself.
struct Peer {
  std::unique_ptr<RawPeer> link;
  std::string device;     // the client's 16-byte device id
  std::uint64_t seq = 0;  // its last change; requests are numbered 2, 3… after the hello
};

Peer open_peer(RunningServer& server, const std::string& role, const std::string& directorate,
               const std::string& name) {
  Peer peer;
  auto token = server.enrol(role, directorate, name);
  auto key = crypto::generate_signing_key();
  auto id = core::DeviceId::random().bytes();
  peer.device.assign(id.begin(), id.end());
  peer.link = RawPeer::connect(server.port(), true);
  REQUIRE(peer.link);
  REQUIRE(peer.link->send(hello_message(token, peer.device, key, peer.link->session_binding())));
  auto welcome = peer.link->read();
  REQUIRE(welcome);
  INFO(name << ": " << welcome->error().message());
  REQUIRE(welcome->has_welcome());
  REQUIRE(welcome->welcome().role() == role);
  REQUIRE(welcome->welcome().directorate() == directorate);
  return peer;
}

// Every field of a new 2024 proposal of `directorate`, as a client's create carries them.
model::FieldValues new_proposal(const std::string& directorate, const std::string& title,
                                const model::FieldValues& extra) {
  model::Proposal p;
  p.id = core::ProposalId::random();
  p.year = 2024;
  model::FieldValues given{{"directorate", directorate}, {"title", title},
                           {"category", "work"},         {"new_or_continuing", "new"},
                           {"area", "HER-CITY"},         {"total_budget", "100000.00"},
                           {"status", "maturing"},       {"priority", "B"}};
  for (const auto& [name, value] : extra) given[name] = value;
  auto applied = model::apply_values(p, given);
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied);
  return model::all_values(p);
}

struct Prepared {
  std::string key;  // the proposal the row is about
  std::string title, ka_code, state;
  std::string conflict, group;  // for a resolution: the conflict and its group
  std::string flag, level;      // for an acknowledgement: a flag raised now
};

// What the master must show afterwards: `after` when the row is accepted, else `before`.
struct Check {
  enum class Kind { kExists, kField, kEnvelope, kFlag, kConflictOpen } kind;
  std::string key, field;
  json before, after;
};

class Matrix {
 public:
  explicit Matrix(RunningServer& server) {
    actors_.emplace(kOwn, open_peer(server, "directorate", "DTE", "own"));
    actors_.emplace(kOther, open_peer(server, "directorate", "DPOL", "other"));
    actors_.emplace(kPlanning, open_peer(server, "planning", "", "planning"));
    actors_.emplace(kBudget, open_peer(server, "budget", "", "budget"));
    actors_.emplace(kAuditor, open_peer(server, "auditor", "", "auditor"));
    planning_ = open_peer(server, "planning", "", "setup planning");
    budget_ = open_peer(server, "budget", "", "setup budget");
  }

  Peer& actor(Actor a) { return actors_.at(a); }

  // Pushes one change as `peer` and returns the server's outcome from its push reply.
  wire::Outcome push(Peer& peer, wire::Change change) {
    change.set_device_id(peer.device);
    change.set_device_seq(++peer.seq);
    change.set_hlc_wall_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
    change.set_user("role matrix");
    wire::Message m;
    m.set_request_id(peer.seq + 1);
    *m.mutable_push()->add_changes() = std::move(change);
    REQUIRE(peer.link->send(m));
    auto reply = peer.link->read();
    REQUIRE(reply);
    INFO("error: " << reply->error().message());
    REQUIRE(reply->has_push_reply());
    REQUIRE(reply->request_id() == m.request_id());
    REQUIRE(reply->push_reply().outcomes_size() == 1);
    auto outcome = reply->push_reply().outcomes(0);
    const auto& at = outcome.position();
    if (std::pair(at.epoch(), at.seq()) > std::pair(head_.epoch(), head_.seq())) head_ = at;
    return outcome;
  }

  Prepared prepare(const std::string& on);
  std::pair<wire::Change, Check> action(const std::string& change, const Prepared& on);

 private:
  wire::Outcome setup(Peer& peer, wire::Change change, wire::OutcomeKind expected) {
    auto outcome = push(peer, std::move(change));
    INFO("setup: " << outcome.reason());
    REQUIRE(outcome.kind() == expected);
    return outcome;
  }
  wire::Outcome edit(Peer& peer, const std::string& key, const std::string& group,
                     const model::FieldValues& values) {
    return setup(peer, change_of(wire::ENTITY_PROPOSAL, key, group, values, head_),
                 wire::OUTCOME_ACCEPTED);
  }
  // A DTE proposal created by the setup planning device.
  Prepared create(const std::string& state, const model::FieldValues& extra = {}) {
    Prepared p;
    p.title = "Έργο πίνακα ρόλων " + std::to_string(++next_);
    p.ka_code = next_ka();
    p.state = state;
    model::FieldValues given{{"ka_code", p.ka_code}, {"state", state}};
    for (const auto& [name, value] : extra) given[name] = value;
    auto values = new_proposal("DTE", p.title, given);
    p.key = values.at("id");
    setup(planning_,
          change_of(wire::ENTITY_PROPOSAL, p.key, std::string(changelog::kCreateGroup), values,
                    std::nullopt),
          wire::OUTCOME_ACCEPTED);
    return p;
  }
  Prepared conflict(const std::string& group, const model::FieldValues& first,
                    const model::FieldValues& second);
  Prepared money_flag();
  std::string next_ka() { return "30-7323." + std::to_string(600 + ++next_); }
  std::string next_source() {
    REQUIRE(sources_ < std::size(kSources));
    return kSources[sources_++];
  }

  std::map<Actor, Peer> actors_;
  Peer planning_, budget_;  // they prepare each row's target
  wire::Revision head_;     // the newest log position seen: every edit's base
  int next_ = 0;
  std::size_t sources_ = 0;
};

// Two central devices edit `group` from the same base: the second is parked in a conflict.
Prepared Matrix::conflict(const std::string& group, const model::FieldValues& first,
                          const model::FieldValues& second) {
  auto p = create("draft");
  auto created = head_;
  edit(planning_, p.key, group, first);
  auto parked = setup(budget_, change_of(wire::ENTITY_PROPOSAL, p.key, group, second, created),
                      wire::OUTCOME_CONFLICT);
  REQUIRE(parked.has_conflict());
  p.conflict = changelog::conflict_id_text({parked.conflict().epoch(), parked.conflict().seq()});
  p.group = group;
  return p;
}

// An included proposal funded by a fresh source whose envelope it exceeds.
Prepared Matrix::money_flag() {
  auto source = next_source();
  auto p = create("submitted", {{"allocation", "1000.00"}, {"funding", source + "=1000.00"}});
  edit(planning_, p.key, "state", {{"state", "included"}, {"decision_reason", "ώριμο έργο"}});
  setup(budget_,
        change_of(wire::ENTITY_ENVELOPE, "2024:" + source, "amount", {{"amount", "1.00"}}, head_),
        wire::OUTCOME_ACCEPTED);
  p.flag = "envelope:2024:" + source;
  p.level = "99900";  // 1.000,00 included above an envelope of 1,00, in cents
  return p;
}

Prepared Matrix::prepare(const std::string& on) {
  if (on.empty()) return {};
  if (on == "draft" || on == "submitted") return create(on);
  if (on == "included") {
    auto p = create("submitted");
    edit(planning_, p.key, "state", {{"state", "included"}, {"decision_reason", "ώριμο έργο"}});
    p.state = "included";
    return p;
  }
  if (on == "money conflict")
    return conflict("money", {{"allocation", "2000.00"}, {"funding", "1099=2000.00"}},
                    {{"allocation", "3000.00"}, {"funding", "1099=3000.00"}});
  if (on == "classification conflict")
    return conflict("classification", {{"category", "work"}, {"ka_code", next_ka()}},
                    {{"category", "work"}, {"ka_code", next_ka()}});
  if (on == "money flag") return money_flag();
  if (on == "ΚΑ-code flag") {
    auto p = create("draft");
    create("draft", {{"ka_code", p.ka_code}});  // a second live proposal with the code
    p.flag = "ka:2024:" + p.ka_code;
    p.level = "2";  // two live proposals use it
    return p;
  }
  FAIL("no such target: " << on);
  return {};
}

std::pair<wire::Change, Check> Matrix::action(const std::string& change, const Prepared& on) {
  using Kind = Check::Kind;
  auto n = std::to_string(++next_);
  auto edit_of = [&](const std::string& group, const model::FieldValues& values,
                     const std::string& field, json before, json after) {
    return std::pair(change_of(wire::ENTITY_PROPOSAL, on.key, group, values, head_),
                     Check{Kind::kField, on.key, field, std::move(before), std::move(after)});
  };
  if (change.starts_with("create for ")) {
    auto values = new_proposal(change.substr(11), "Νέο έργο " + n, {});
    auto key = values.at("id");
    return {change_of(wire::ENTITY_PROPOSAL, key, std::string(changelog::kCreateGroup), values,
                      std::nullopt),
            {Kind::kExists, key, "", false, true}};
  }
  if (change.starts_with("state=")) {
    auto state = change.substr(6);
    auto why = state == "included" || state == "deferred" ? "Αιτιολογία απόφασης " + n : "";
    return edit_of("state", {{"state", state}, {"decision_reason", why}}, "state", on.state, state);
  }
  if (change == "title" || change == "remarks") {
    auto before = change == "title" ? on.title : "";
    auto after = (before.empty() ? "" : before + " ") + "αλλαγή " + n;
    return edit_of(change, {{change, after}}, change, before, after);
  }
  if (change == "money")
    return edit_of("money",
                   {{"total_budget", "100000.00"},
                    {"paid_to_date", "0.00"},
                    {"allocation", "1000.00"},
                    {"funding", "1099=1000.00"}},
                   "allocation", 0, 100000);
  if (change == "classification") {
    auto code = next_ka();
    return edit_of("classification", {{"category", "work"}, {"ka_code", code}}, "ka_code",
                   on.ka_code, code);
  }
  if (change == "resolve")
    return {change_of(wire::ENTITY_PROPOSAL, on.key, on.group,
                      {{std::string(changelog::kResolvesKey), on.conflict}}, head_),
            {Kind::kConflictOpen, on.conflict, "", true, false}};
  if (change == "envelope") {
    auto source = next_source();
    return {change_of(wire::ENTITY_ENVELOPE, "2024:" + source, "amount", {{"amount", "123456.78"}},
                      head_),
            {Kind::kEnvelope, source, "", nullptr, 12345678}};
  }
  REQUIRE(change == "ack");
  return {change_of(wire::ENTITY_FLAG, on.flag, "ack",
                    {{"reason", "Αιτιολόγηση " + n}, {"level", on.level}}, std::nullopt),
          {Kind::kFlag, on.flag, "", nullptr, "Αιτιολόγηση " + n}};
}

// The master as a planning client sees it after syncing.
struct Observed {
  std::map<std::string, json> proposals;
  json envelopes, flags, conflicts;
};

Observed observe(const Client& planning) {
  Observed seen;
  for (const auto& p : planning.run_json({"list", "--json"})) seen.proposals[p.at("id")] = p;
  seen.envelopes = planning.run_json({"envelopes", "--year", "2024", "--json"});
  seen.flags = planning.run_json({"flags", "--year", "2024", "--json"});
  seen.conflicts = planning.run_json({"conflicts", "--json"});
  return seen;
}

json value_of(const Observed& seen, const Check& check) {
  auto in = [](const json& list, const char* key, const std::string& value) -> const json* {
    for (const auto& item : list)
      if (item.at(key) == value) return &item;
    return nullptr;
  };
  switch (check.kind) {
    case Check::Kind::kExists:
      return seen.proposals.contains(check.key);
    case Check::Kind::kField: {
      auto p = seen.proposals.find(check.key);
      return p == seen.proposals.end() ? json("(no such proposal)") : p->second.at(check.field);
    }
    case Check::Kind::kEnvelope: {
      const auto* use = in(seen.envelopes, "source", check.key);
      return use ? use->at("envelope") : json(nullptr);
    }
    case Check::Kind::kFlag: {
      const auto* flag = in(seen.flags, "id", check.key);
      if (!flag) return "(flag not raised)";
      const auto& ack = flag->at("acknowledged");
      return ack.is_null() ? ack : ack.at("reason");
    }
    case Check::Kind::kConflictOpen:
      return in(seen.conflicts, "id", check.key) != nullptr;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("role_matrix: the server enforces every role and change pair of the DESIGN table",
          "[integration][role_matrix]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  Matrix matrix(server);
  std::vector<std::pair<const Row*, Check>> done;
  for (const auto& row : kRows) {
    INFO("row: " << describe(row));
    auto on = matrix.prepare(row.on);
    auto [change, check] = matrix.action(row.change, on);
    REQUIRE(check.before != check.after);  // the master check below can tell them apart
    auto outcome = matrix.push(matrix.actor(row.actor), change);
    INFO("the server: " << wire::OutcomeKind_Name(outcome.kind()) << " " << outcome.reason());
    if (row.accepted) {
      CHECK(outcome.kind() == wire::OUTCOME_ACCEPTED);
    } else {
      CHECK(outcome.kind() == wire::OUTCOME_REJECTED);
      CHECK_THAT(outcome.reason(), Catch::Contains(row.reason));
    }
    done.emplace_back(&row, std::move(check));
  }

  auto planning = server.add_client("planning", "planning", "");
  auto synced = planning.sync();
  CHECK(synced.at("digest") == server.verify().at("digest"));
  auto seen = observe(planning);
  for (const auto& [row, check] : done) {
    INFO("row: " << describe(*row));
    CHECK(value_of(seen, check) == (row->accepted ? check.after : check.before));
  }
}

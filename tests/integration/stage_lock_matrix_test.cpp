// DESIGN.md's stage locks (under "Who may change what") against a real `ergond` over TLS, as
// role_matrix_test.cpp does for roles: raw peers of a directorate (DTE), planning, budget and
// auditor push hand-built changes in every stage of 2024, from proposals to a closed amendment;
// each outcome is the table's with the stage's lock on top, and a lock's refusal names the stage
// and why. Only planning moves stages. The master, read over the wire at the end, holds exactly
// the accepted changes. Malformed stage and programme requests get an error frame each, and the
// server serves the next connection.

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

constexpr int kYear = 2024;

// Every refused request ends its session (an error frame, then a close), so a peer keeps its
// device id, key and numbering across connections and says hello again after a refusal.
class Peer {
 public:
  Peer(RunningServer& server, std::string role, const std::string& directorate)
      : server_(server),
        role_(std::move(role)),
        token_(server.enrol(role_, directorate, "stage locks " + role_)) {
    auto id = core::DeviceId::random().bytes();
    device_.assign(id.begin(), id.end());
    connect();
  }

  const wire::Welcome& welcome() const { return welcome_; }

  // A new session: the hello a real client sends, and the welcome for the enrolled role.
  void connect() {
    link_ = RawPeer::connect(server_.port(), true);
    REQUIRE(link_);
    REQUIRE(link_->send(hello_message(token_, device_, key_, link_->session_binding())));
    auto reply = link_->read();
    REQUIRE(reply);
    INFO(role_ << ": " << reply->error().message());
    REQUIRE(reply->has_welcome());
    REQUIRE(reply->welcome().role() == role_);
    welcome_ = reply->welcome();
    next_request_ = 2;  // the hello was 1
  }

  // Sends one request and returns the server's answer to it, whatever it is.
  wire::Message ask(wire::Message request) {
    request.set_request_id(next_request_++);
    REQUIRE(link_->send(request));
    auto reply = link_->read();
    REQUIRE(reply);
    CHECK(reply->request_id() == request.request_id());
    return *reply;
  }

  // A request the server must refuse: its error frame; the server then ends the session, and
  // the peer says hello again on a new connection (which must work).
  wire::ErrorReply refused(const wire::Message& request) {
    auto reply = ask(request);
    INFO(role_ << " got " << reply.ShortDebugString());
    REQUIRE(reply.has_error());
    CHECK(link_->closed_by_server());
    connect();
    return reply.error();
  }

  // Numbers `changes` as this device's next ones and pushes them in one batch.
  std::vector<wire::Outcome> push(std::vector<wire::Change> changes) {
    wire::Message m;
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    for (auto& change : changes) {
      change.set_device_id(device_);
      change.set_device_seq(++seq_);
      change.set_hlc_wall_ms(now.count());
      change.set_user("stage locks");
      *m.mutable_push()->add_changes() = std::move(change);
    }
    auto reply = ask(m);
    INFO(role_ << ": " << reply.error().message());
    REQUIRE(reply.has_push_reply());
    REQUIRE(reply.push_reply().outcomes_size() == m.push().changes_size());
    return {reply.push_reply().outcomes().begin(), reply.push_reply().outcomes().end()};
  }

 private:
  RunningServer& server_;
  std::string role_, token_;
  crypto::SigningKey key_ = crypto::generate_signing_key();
  std::string device_;  // the client's 16-byte device id
  std::unique_ptr<RawPeer> link_;
  wire::Welcome welcome_;
  std::uint64_t seq_ = 0, next_request_ = 2;
};

wire::Message stage_move(const std::string& action, const std::string& target, int year = 0) {
  wire::Message m;
  auto* move = m.mutable_stage_move();
  move->set_year(year);
  move->set_action(action);
  move->set_target(target);
  move->mutable_decision()->set_number("12/2024");
  move->mutable_decision()->set_date("2024-02-15");
  move->set_user("stage locks");
  return m;
}

wire::Message stages_request(int year) {
  wire::Message m;
  m.mutable_stages()->set_year(year);
  return m;
}

wire::Message programme_request(int year, const std::string& stage, std::int64_t as_of_ms = 0) {
  wire::Message m;
  m.mutable_programme()->set_year(year);
  m.mutable_programme()->set_stage(stage);
  m.mutable_programme()->set_as_of_ms(as_of_ms);
  return m;
}

// The server is alive and its log holds no sanitizer report.
void check_alive(RunningServer& server) {
  CHECK(server.is_running());
  CHECK_THAT(server.serve_log(),
             !Catch::Contains("AddressSanitizer") && !Catch::Contains("runtime error"));
}

enum class Actor { kDirectorate, kPlanning, kBudget, kAuditor };
constexpr const char* kActors[] = {"directorate DTE", "planning", "budget", "auditor"};

enum class Edit { kCreate, kTitle, kMoney, kClassification, kSubmit, kDecide, kEnvelope };
constexpr const char* kEdits[] = {"creates a proposal", "edits a title", "edits the money group",
                                  "sets a ΚΑ code",     "submits",       "decides (included)",
                                  "sets an envelope"};

struct Row {
  Actor actor;
  Edit edit;
};

// Each role's representative changes. The role table allows all of them (the directorate's on
// its own undecided drafts) except the auditor's, so what refuses them below is the stage lock.
constexpr Row kRows[] = {
    {Actor::kDirectorate, Edit::kCreate}, {Actor::kDirectorate, Edit::kTitle},
    {Actor::kDirectorate, Edit::kMoney},  {Actor::kDirectorate, Edit::kClassification},
    {Actor::kDirectorate, Edit::kSubmit}, {Actor::kPlanning, Edit::kCreate},
    {Actor::kPlanning, Edit::kTitle},     {Actor::kPlanning, Edit::kDecide},
    {Actor::kBudget, Edit::kMoney},       {Actor::kBudget, Edit::kClassification},
    {Actor::kBudget, Edit::kEnvelope},    {Actor::kAuditor, Edit::kTitle},
};

constexpr const char* kSaysUntilApproval =
    "only planning and budget change it until the council approves";
constexpr const char* kSaysAfterApproval =
    "after approval only planning and budget change it, inside an amendment";
constexpr const char* kSaysNeedsAmendment = "changes need an open amendment";

struct Stage {
  const char* label;   // how the test names it
  const char* action;  // the move into it (none: where a year starts)
  const char* target;
  const char* name;  // where the server then says the year stands
  bool is_amendment_open;
  const char* directorate_refused;  // why the lock refuses the directorate (nullptr: it does not)
  const char* central_refused;      // the same for planning and budget
};

constexpr Stage kStages[] = {
    {"proposals", "", "", "proposals", false, nullptr, nullptr},
    {"draft", "advance", "draft", "draft-1", false, nullptr, nullptr},
    {"consultation", "advance", "consultation", "consultation", false, kSaysUntilApproval, nullptr},
    {"committee", "advance", "committee", "committee", false, kSaysUntilApproval, nullptr},
    {"approved", "advance", "approved", "approved", false, kSaysAfterApproval, kSaysNeedsAmendment},
    {"amendment-1 open", "advance", "amendment", "amendment-1", true, kSaysAfterApproval, nullptr},
    {"amendment-1 closed", "close", "amendment-1", "amendment-1", false, kSaysAfterApproval,
     kSaysNeedsAmendment},
};

// Funding sources nothing else uses: one envelope a stage, never over-committed (an open flag
// would block the next move).
constexpr const char* kSources[] = {"AT01", "AT02", "AT04", "AT05", "AT07", "AT08", "AT09"};
static_assert(std::size(kSources) == std::size(kStages));

// What the table with the stage's lock on top says of `row`: nullopt when it is accepted, else
// the pieces its reason must hold.
std::optional<std::vector<std::string>> refusal(const Row& row, const Stage& stage) {
  // The table refuses the auditor in every stage, before any lock is looked at.
  if (row.actor == Actor::kAuditor)
    return std::vector<std::string>{"auditors read everything and change nothing"};
  const char* why =
      row.actor == Actor::kDirectorate ? stage.directorate_refused : stage.central_refused;
  if (!why) return std::nullopt;
  return std::vector<std::string>{"stage '" + std::string(stage.name) + "'", why};
}

std::string describe(const Row& row, const Stage& stage) {
  auto refused = refusal(row, stage);
  return std::string("in ") + stage.label + ", " + kActors[static_cast<int>(row.actor)] + " " +
         kEdits[static_cast<int>(row.edit)] + ": " + (refused ? "refused" : "accepted");
}

// Every field of a new proposal, as a client's create carries them.
model::FieldValues new_proposal(const std::string& directorate, const std::string& title,
                                const std::string& state) {
  model::Proposal p;
  p.id = core::ProposalId::random();
  p.year = kYear;
  model::FieldValues given{
      {"directorate", directorate}, {"title", title},     {"category", "work"},
      {"new_or_continuing", "new"}, {"area", "HER-CITY"}, {"total_budget", "100000.00"},
      {"status", "maturing"},       {"priority", "B"},    {"state", state}};
  auto applied = model::apply_values(p, given);
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied);
  return model::all_values(p);
}

// What the master must hold afterwards: `after` when the row was accepted, else `before`. An
// empty field asks whether the proposal exists.
struct Expect {
  std::string key, field, before, after;
};

// The master as a ProgrammeRequest answers it: proposals by id, envelopes by YEAR:SOURCE (with
// one field, amount_cents).
using Master = std::map<std::string, model::FieldValues>;

std::string value_of(const Master& master, const Expect& e) {
  auto it = master.find(e.key);
  if (e.field.empty()) return it == master.end() ? "absent" : "exists";
  if (it == master.end()) return "none";
  return it->second.contains(e.field) ? it->second.at(e.field) : "(no such field)";
}

class Programme {
 public:
  explicit Programme(RunningServer& server) {
    peers_.emplace(Actor::kDirectorate, std::make_unique<Peer>(server, "directorate", "DTE"));
    peers_.emplace(Actor::kPlanning, std::make_unique<Peer>(server, "planning", ""));
    peers_.emplace(Actor::kBudget, std::make_unique<Peer>(server, "budget", ""));
    peers_.emplace(Actor::kAuditor, std::make_unique<Peer>(server, "auditor", ""));
  }

  Peer& peer(Actor actor) { return *peers_.at(actor); }

  // Pushes one change as `actor`, noting the newest log position: every later edit's base, so
  // no edit is a concurrent one and the outcome is the permission's alone.
  wire::Outcome push(Actor actor, wire::Change change) {
    auto outcome = peer(actor).push({std::move(change)}).at(0);
    note(outcome);
    return outcome;
  }

  // While nothing locks it (in `proposals` for that stage, at the draft for the later ones, as
  // a draft is frozen only with every proposal decided), planning creates one DTE proposal for
  // every row of stages `first`… that edits one: a submitted one to decide, a draft for the rest.
  void create_targets(std::size_t first, std::size_t last) {
    std::vector<wire::Change> creates;
    for (std::size_t s = first; s < last; ++s)
      for (std::size_t r = 0; r < std::size(kRows); ++r) {
        auto edit = kRows[r].edit;
        if (edit == Edit::kCreate || edit == Edit::kEnvelope) continue;
        auto values = new_proposal("DTE", "Έργο σταδίων " + next(),
                                   edit == Edit::kDecide ? "submitted" : "draft");
        creates.push_back(change_of(wire::ENTITY_PROPOSAL, values.at("id"),
                                    std::string(changelog::kCreateGroup), values, std::nullopt));
        targets_[{s, r}] = std::move(values);
      }
    for (const auto& outcome : peer(Actor::kPlanning).push(std::move(creates))) {
      INFO("setup: " << outcome.reason());
      REQUIRE(outcome.kind() == wire::OUTCOME_ACCEPTED);
      note(outcome);
    }
  }

  // Planning includes every proposal still undecided: then the draft can be frozen (#27).
  void include_undecided() {
    std::vector<wire::Change> decisions;
    for (const auto& [key, values] : master()) {
      auto state = values.find("state");
      if (state != values.end() && (state->second == "draft" || state->second == "submitted"))
        decisions.push_back(change_of(wire::ENTITY_PROPOSAL, key, "state",
                                      {{"state", "included"}, {"decision_reason", ""}}, head_));
    }
    REQUIRE_FALSE(decisions.empty());
    for (const auto& outcome : peer(Actor::kPlanning).push(std::move(decisions))) {
      INFO("setup: " << outcome.reason());
      REQUIRE(outcome.kind() == wire::OUTCOME_ACCEPTED);
      note(outcome);
    }
  }

  std::pair<wire::Change, Expect> action(const Row& row, std::size_t stage, std::size_t at) {
    auto n = next();
    if (row.edit == Edit::kCreate) {
      // A directorate creates for itself, planning for any directorate.
      auto directorate = row.actor == Actor::kDirectorate ? "DTE" : "DPOL";
      auto values = new_proposal(directorate, "Νέο έργο " + n, "draft");
      auto key = values.at("id");
      return {change_of(wire::ENTITY_PROPOSAL, key, std::string(changelog::kCreateGroup), values,
                        std::nullopt),
              {key, "", "absent", "exists"}};
    }
    if (row.edit == Edit::kEnvelope) {
      auto key = std::to_string(kYear) + ":" + kSources[stage];
      return {change_of(wire::ENTITY_ENVELOPE, key, "amount", {{"amount", "123456.78"}}, head_),
              {key, "amount_cents", "none", "12345678"}};
    }
    const auto& target = targets_.at({stage, at});
    auto key = target.at("id");
    auto edit = [&](const std::string& group, const model::FieldValues& values,
                    const std::string& field, const std::string& after) {
      return std::pair(change_of(wire::ENTITY_PROPOSAL, key, group, values, head_),
                       Expect{key, field, target.at(field), after});
    };
    switch (row.edit) {
      case Edit::kTitle: {
        auto title = target.at("title") + " αλλαγή " + n;
        return edit("title", {{"title", title}}, "title", title);
      }
      case Edit::kMoney: {
        auto amount = std::to_string(1000 + next_) + ".00";
        // Part of the group: a change may set some of its fields.
        return edit("money", {{"allocation", amount}, {"funding", "1099=" + amount}}, "allocation",
                    amount);
      }
      case Edit::kClassification: {
        auto code = "30-7323." + std::to_string(700 + next_);  // unique: no ΚΑ flag
        return edit("classification", {{"category", "work"}, {"ka_code", code}}, "ka_code", code);
      }
      case Edit::kSubmit:
        return edit("state", {{"state", "submitted"}, {"decision_reason", ""}}, "state",
                    "submitted");
      default:
        REQUIRE(row.edit == Edit::kDecide);
        return edit("state", {{"state", "included"}, {"decision_reason", "Αιτιολογία " + n}},
                    "state", "included");
    }
  }

  // The move from `from` into `to`: every other role asks for it first and is refused, leaving
  // the stage where it was; then planning's move is taken.
  void move(const Stage& from, const Stage& to) {
    auto request = stage_move(to.action, to.target);
    for (auto actor : {Actor::kDirectorate, Actor::kBudget, Actor::kAuditor}) {
      INFO(kActors[static_cast<int>(actor)] << " asks to " << to.action << " " << to.target);
      auto error = peer(actor).refused(request);
      CHECK(error.code() == wire::PERMISSION_DENIED);
      CHECK_THAT(error.message(), Catch::Contains("only planning moves the programme's stages"));
      CHECK(peer(actor).welcome().stage() == from.name);  // the refused move moved nothing
    }
    auto reply = peer(Actor::kPlanning).ask(request);
    INFO("planning's " << to.action << " " << to.target << ": " << reply.error().message());
    REQUIRE(reply.has_stage_move_reply());
    const auto& year = reply.stage_move_reply().year();
    CHECK(year.stage() == to.name);
    CHECK(year.amendment_open() == to.is_amendment_open);
  }

  Master master() {
    auto reply = peer(Actor::kAuditor).ask(programme_request(kYear, ""));
    INFO(reply.error().message());
    REQUIRE(reply.has_programme_reply());
    Master seen;
    for (const auto& p : reply.programme_reply().proposals()) {
      model::FieldValues values;
      for (const auto& v : p.values()) values[v.name()] = v.value();
      seen[values["id"]] = std::move(values);
    }
    for (const auto& e : reply.programme_reply().envelopes())
      seen[e.key()] = {{"amount_cents", std::to_string(e.amount_cents())}};
    return seen;
  }

 private:
  void note(const wire::Outcome& outcome) {
    const auto& at = outcome.position();
    if (std::pair(at.epoch(), at.seq()) > std::pair(head_.epoch(), head_.seq())) head_ = at;
  }
  std::string next() { return std::to_string(++next_); }

  std::map<Actor, std::unique_ptr<Peer>> peers_;
  wire::Revision head_;
  std::map<std::pair<std::size_t, std::size_t>, model::FieldValues> targets_;  // (stage, row)
  int next_ = 0;
};

}  // namespace

TEST_CASE("stage locks: every role's changes in every stage and only planning moves stages",
          "[integration][stage_locks]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  Programme programme(server);
  programme.create_targets(0, 1);
  std::vector<std::pair<std::string, Expect>> done;  // each row, and what the master holds
  auto check_master = [&] {
    auto master = programme.master();
    for (const auto& [row, expect] : done) {
      INFO(row << " (" << expect.key << " " << expect.field << ")");
      CHECK(value_of(master, expect) == expect.after);
    }
    done.clear();
  };
  for (std::size_t s = 0; s < std::size(kStages); ++s) {
    const auto& stage = kStages[s];
    if (s == 1) {
      check_master();  // before planning decides what `proposals` left undecided
      programme.include_undecided();
    }
    if (s > 0) programme.move(kStages[s - 1], stage);
    if (s == 1) programme.create_targets(1, std::size(kStages));
    for (std::size_t r = 0; r < std::size(kRows); ++r) {
      const auto& row = kRows[r];
      INFO(describe(row, stage));
      auto [change, expect] = programme.action(row, s, r);
      REQUIRE(expect.before != expect.after);  // the master check below can tell them apart
      auto outcome = programme.push(row.actor, change);
      INFO("the server: " << wire::OutcomeKind_Name(outcome.kind()) << " " << outcome.reason());
      auto refused = refusal(row, stage);
      if (refused) {
        CHECK(outcome.kind() == wire::OUTCOME_REJECTED);
        for (const auto& piece : *refused) CHECK_THAT(outcome.reason(), Catch::Contains(piece));
        expect.after = expect.before;
      } else {
        CHECK(outcome.kind() == wire::OUTCOME_ACCEPTED);
      }
      done.emplace_back(describe(row, stage), std::move(expect));
    }
  }

  check_master();
  CHECK(server.verify().at("ok") == true);
  check_alive(server);
}

TEST_CASE("stage locks: malformed stage and programme requests are refused cleanly",
          "[integration][stage_locks]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  Peer planning(server, "planning", "");
  struct Case {
    wire::Message request;
    wire::ErrorCode code;
    std::string says;
  };
  wire::Message bad_date = stage_move("advance", "draft");
  bad_date.mutable_stage_move()->mutable_decision()->set_date("2024-02-30");
  const Case cases[] = {
      {stage_move("promote", "draft"), wire::PROTOCOL, "'promote' is not a stage action"},
      {stage_move("", "draft"), wire::PROTOCOL, "'' is not a stage action"},
      {stage_move("advance", "final"), wire::INVALID_ARGUMENT, "'final' is not a stage to advance"},
      {stage_move("advance", ""), wire::INVALID_ARGUMENT, "'' is not a stage to advance to"},
      {stage_move("reopen", ""), wire::INVALID_ARGUMENT, "only the draft is reopened"},
      {stage_move("close", ""), wire::INVALID_ARGUMENT, "only an amendment is closed"},
      {stage_move("advance", std::string(600, 'x')), wire::PROTOCOL, "the limit is 512"},
      {stage_move("advance", "draft", 1999), wire::NOT_FOUND, "of 1999 is not open on this server"},
      {stage_move("advance", "approved"), wire::STAGE_LOCKED, "is at 'proposals'"},
      {stage_move("close", "amendment-1"), wire::STAGE_LOCKED, "is not the open amendment"},
      {bad_date, wire::INVALID_ARGUMENT, "'2024-02-30' is not a date"},
      {stages_request(1999), wire::NOT_FOUND, "the programme of 1999 is not open"},
      {programme_request(1999, ""), wire::NOT_FOUND, "the programme of 1999 is not open"},
      {programme_request(kYear, "final"), wire::NOT_FOUND, "'final' is no frozen stage of 2024"},
      {programme_request(kYear, "committee"), wire::NOT_FOUND, "has no frozen stage 'committee'"},
      {programme_request(kYear, "", -1), wire::PROTOCOL, "milliseconds since 1970"},
  };
  for (const auto& c : cases) {
    INFO(c.request.ShortDebugString().substr(0, 200));
    auto error = planning.refused(c.request);
    CHECK(error.code() == c.code);
    CHECK_THAT(error.message(), Catch::Contains(c.says));
    CHECK(planning.welcome().stage() == "proposals");  // a new connection works; nothing moved
  }
  check_alive(server);

  // After all of them the server still reads and moves stages.
  auto stages = planning.ask(stages_request(0));
  REQUIRE(stages.has_stages_reply());
  CHECK(stages.stages_reply().records_size() == 0);
  auto moved = planning.ask(stage_move("advance", "draft"));
  INFO(moved.error().message());
  REQUIRE(moved.has_stage_move_reply());
  CHECK(moved.stage_move_reply().year().stage() == "draft-1");
  CHECK(moved.stage_move_reply().record().frozen());
  CHECK(server.verify().at("ok") == true);
}

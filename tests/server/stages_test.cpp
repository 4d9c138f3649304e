// The programme's stages on a real master store: each move freezes the master and records its
// checkpoint; the frozen programme never changes; the programme as of a moment equals the
// freeze taken then; stage locks reject what the stage forbids; open flags refuse a move.

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/server/sync_harness.h"
#include "tests/support/fixtures.h"

using namespace ergon;
using changelog::OutcomeKind;
using merge::Role;
using merge::StageAction;
using testing::a_work;
using testing::SyncHarness;

namespace {

const server::Provenance kPlanning{"planning-enrolment", Role::kPlanning, ""};

core::Result<server::StageEvent> move(SyncHarness& h, StageAction action, const std::string& to,
                                      merge::StageDecision decision = {}) {
  return h.master().move_stage(2024, {action, to, std::move(decision)}, kPlanning, "Γραφείο");
}

server::StageEvent advance(SyncHarness& h, const std::string& to,
                           merge::StageDecision decision = {}) {
  auto e = move(h, StageAction::kAdvance, to, std::move(decision));
  INFO((e ? std::string() : e.error().message));
  REQUIRE(e);
  return *e;
}

const merge::StageDecision kDecision{"", "45/2024", "2024-02-20", "6ΞΥ4ΩΗΓ-1ΑΒ"};

// Planning includes every proposal still undecided: a draft is frozen only then (#27).
void include_all(SyncHarness& h, SyncHarness::Client& planning) {
  h.pull(planning);
  auto listed = planning.store->list({});
  REQUIRE(listed);
  std::vector<core::ProposalId> ids;
  for (const auto& p : *listed)
    if (!model::is_decided(p.state) && p.state != model::State::kWithdrawn) ids.push_back(p.id);
  if (ids.empty()) return;
  REQUIRE(planning.store->decide(ids, model::State::kIncluded, ""));
  h.sync(planning);
}

OutcomeKind edit_outcome(SyncHarness& h, SyncHarness::Client& c, const core::ProposalId& id,
                         const std::string& remark, std::string* reason = nullptr) {
  h.pull(c);  // on the latest revision: only the stage can refuse it
  REQUIRE(c.store->edit(id, {{"remarks", remark}}));
  auto outcomes = h.push(c);
  REQUIRE(outcomes.size() == 1u);
  h.pull(c);
  if (reason) *reason = outcomes.front().reason;
  return outcomes.front().kind;
}

server::Programme programme(SyncHarness& h, const std::string& stage, std::int64_t as_of = 0) {
  auto p = h.master().programme({2024, stage, as_of});
  INFO((p ? std::string() : p.error().message));
  REQUIRE(p);
  return *p;
}

}  // namespace

TEST_CASE("each stage freezes the master with its checkpoint, and the freeze never changes",
          "[stages]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto first = dte.store->create(a_work("Ανάπλαση πλατείας"));
  auto second = dte.store->create(a_work("Οδοποιία Βούτων"));
  REQUIRE((first && second));
  h.sync(dte);
  // Undecided proposals keep the draft from being frozen; the refusal counts and names them.
  auto undecided = move(h, StageAction::kAdvance, "draft");
  REQUIRE_FALSE(undecided);
  CHECK(undecided.error().code == core::ErrorCode::kStageLocked);
  CHECK_THAT(undecided.error().message, Catch::Contains("2 proposals are still undecided") &&
                                            Catch::Contains(first->id.hex().substr(0, 8)) &&
                                            Catch::Contains("ergon decide"));
  CHECK(h.master().stage_events(2024)->empty());
  include_all(h, planning);

  auto draft = advance(h, "draft");
  CHECK(draft.name == "draft-1");
  CHECK(draft.frozen);
  CHECK(draft.proposals == 2u);
  CHECK(draft.decision.body == "Τμήμα Προγραμματισμού");
  auto verified = h.master().verify();
  REQUIRE(verified);
  CHECK(draft.checkpoint == verified->head_at);
  CHECK(draft.chain_head == verified->head);

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(edit_outcome(h, planning, first->id, "μετά το προσχέδιο") == OutcomeKind::kAccepted);

  auto frozen = programme(h, "draft-1");
  auto now = programme(h, "");
  REQUIRE(frozen.proposals.size() == 2u);
  CHECK(frozen.proposals.at(first->id.hex()).at("remarks").empty());
  CHECK(now.proposals.at(first->id.hex()).at("remarks") == "μετά το προσχέδιο");
  CHECK(frozen.stage->name == "draft-1");
  // The programme as of the moment of the freeze is the freeze.
  auto as_of = programme(h, "", draft.at_ms);
  CHECK(as_of.proposals == frozen.proposals);
  CHECK(as_of.at == draft.checkpoint);

  // The frozen tables refuse any rewrite, even through SQL.
  auto db = storage::Database::open(h.server_dir() / server::MasterStore::kDatabaseFile,
                                    storage::Durability::kNormal);
  REQUIRE(db);
  CHECK_FALSE(db->exec("UPDATE stage_proposals SET vals = x'00'"));
  CHECK_FALSE(db->exec("DELETE FROM stage_events"));
}

TEST_CASE("stages go in order, with their decisions, and the draft reopens before the committee",
          "[stages]") {
  SyncHarness h;
  CHECK(move(h, StageAction::kAdvance, "consultation").error().code ==
        core::ErrorCode::kStageLocked);
  advance(h, "draft");
  advance(h, "consultation");
  auto reopened = move(h, StageAction::kReopen, "draft");
  REQUIRE(reopened);
  CHECK(reopened->name == "draft-2");
  CHECK(programme(h, "draft-2").stage->name == "draft-2");
  advance(h, "consultation");
  auto no_number = move(h, StageAction::kAdvance, "committee");
  REQUIRE_FALSE(no_number);
  CHECK_THAT(no_number.error().message, Catch::Contains("--decision NO/YEAR --date DD/MM/YYYY"));
  auto bad_date = move(h, StageAction::kAdvance, "committee", {"", "45/2024", "30/02/2024", ""});
  REQUIRE_FALSE(bad_date);
  CHECK_THAT(bad_date.error().message, Catch::Contains("22/01/2024, 22-01-2024 or 2024-01-22"));
  auto committee = advance(h, "committee", kDecision);
  CHECK(committee.decision.ada == "6ΞΥ4ΩΗΓ-1ΑΒ");
  CHECK(move(h, StageAction::kReopen, "draft").error().code == core::ErrorCode::kStageLocked);
  // A decision date is never before the previous move's, nor in the future (#27).
  auto earlier = move(h, StageAction::kAdvance, "approved", {"", "101/2024", "19/02/2024", ""});
  REQUIRE_FALSE(earlier);
  CHECK_THAT(earlier.error().message,
             Catch::Contains("19/02/2024 is before the previous stage's decision (20/02/2024)"));
  auto future = move(h, StageAction::kAdvance, "approved", {"", "101/2024", "2099-03-01", ""});
  REQUIRE_FALSE(future);
  CHECK_THAT(future.error().message, Catch::Contains("after today"));
  advance(h, "approved", {"", "101/2024", "2024-03-01", ""});
  // An amendment opens on the Municipal Committee's proposal: its number and date are needed.
  CHECK_FALSE(move(h, StageAction::kAdvance, "amendment"));
  auto opened = advance(h, "amendment", {"", "250/2024", "10-06-2024", ""});
  CHECK(opened.decision.body == "Δημοτική Επιτροπή");
  CHECK(opened.decision.date == "2024-06-10");
  CHECK(opened.name == "amendment-1");
  CHECK_FALSE(opened.frozen);
  CHECK(move(h, StageAction::kAdvance, "amendment").error().code ==
        core::ErrorCode::kStageLocked);                      // one open at a time
  CHECK_FALSE(move(h, StageAction::kClose, "amendment-1"));  // needs its decision
  auto closed = move(h, StageAction::kClose, "amendment-1", {"", "312/2024", "2024-06-28", ""});
  REQUIRE(closed);
  CHECK(closed->frozen);
  CHECK(advance(h, "amendment", {"", "380/2024", "2024-09-15", ""}).name == "amendment-2");

  auto events = h.master().stage_events(2024);
  REQUIRE(events);
  std::vector<std::string> names;
  for (const auto& e : *events) names.push_back(e.name);
  CHECK(names == std::vector<std::string>{"draft-1", "consultation", "draft-2", "consultation",
                                          "committee", "approved", "amendment-1", "amendment-1",
                                          "amendment-2"});
  auto years = h.master().years();
  REQUIRE(years);
  CHECK(years->back().stage == "amendment-2");
  CHECK(years->back().is_amendment_open);
}

TEST_CASE("stage locks: who may change the programme at each stage", "[stages]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto included = dte.store->create(a_work("Ανάπλαση πλατείας"));
  REQUIRE(included);
  h.sync(dte);
  include_all(h, planning);
  advance(h, "draft");
  // At the draft a directorate still proposes and edits its new (undecided) proposals.
  auto p = dte.store->create(a_work("Οδοποιία Βούτων"));
  REQUIRE(p);
  h.sync(dte);
  CHECK(edit_outcome(h, dte, p->id, "στο προσχέδιο") == OutcomeKind::kAccepted);
  advance(h, "consultation");
  std::string reason;
  CHECK(edit_outcome(h, dte, p->id, "στη διαβούλευση", &reason) == OutcomeKind::kRejected);
  CHECK_THAT(reason, Catch::Contains("'consultation'") && Catch::Contains("only planning"));
  CHECK(edit_outcome(h, planning, p->id, "από τον προγραμματισμό") == OutcomeKind::kAccepted);
  advance(h, "committee", kDecision);
  advance(h, "approved", kDecision);
  CHECK(edit_outcome(h, planning, p->id, "μετά την έγκριση", &reason) == OutcomeKind::kRejected);
  CHECK_THAT(reason, Catch::Contains("'approved'") && Catch::Contains("open amendment"));
  advance(h, "amendment", kDecision);
  CHECK(edit_outcome(h, planning, p->id, "στην αναθεώρηση") == OutcomeKind::kAccepted);
  CHECK(edit_outcome(h, dte, p->id, "η διεύθυνση", &reason) == OutcomeKind::kRejected);
  REQUIRE(move(h, StageAction::kClose, "amendment-1", kDecision));
  CHECK(edit_outcome(h, planning, p->id, "μετά το κλείσιμο", &reason) == OutcomeKind::kRejected);
  CHECK_THAT(reason, Catch::Contains("'amendment-1'"));
  CHECK(programme(h, "amendment-1").proposals.at(p->id.hex()).at("remarks") == "στην αναθεώρηση");
}

TEST_CASE("no stage moves while a flag is open; the refusal lists the flags", "[stages]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto p = dte.store->create(a_work("Ανάπλαση πλατείας"));
  REQUIRE(p);
  REQUIRE(dte.store->submit(p->id));
  h.sync(dte);
  h.pull(planning);
  REQUIRE(planning.store->decide({p->id}, model::State::kIncluded, ""));
  h.sync(planning);
  h.pull(budget);
  REQUIRE(budget.store->set_envelope(2024, "1099", *model::Money::parse("100.000,00")));
  h.sync(budget);
  auto refused = move(h, StageAction::kAdvance, "draft");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == core::ErrorCode::kStageLocked);
  CHECK_THAT(refused.error().message, Catch::Contains("envelope:2024:1099"));
  // The hint names the command that exists (`ergon flag ack`, not `flags ack`).
  CHECK_THAT(refused.error().message, Catch::Contains("'ergon flag ack ID --reason TEXT'"));
  auto years = h.master().years();
  REQUIRE(years);
  CHECK(years->back().stage == "proposals");  // nothing moved, nothing frozen
  CHECK(h.master().stage_events(2024)->empty());
  h.pull(planning);
  REQUIRE(planning.store->acknowledge_flag("envelope:2024:1099", "θα καλυφθεί από δάνειο"));
  h.sync(planning);
  CHECK(advance(h, "draft").name == "draft-1");
}

// The stage machine alone: every allowed move from every stage, and the refusals with what to
// do instead.

#include "shared/merge/stages.h"

#include <catch2/catch.hpp>

using namespace ergon;
using merge::StageAction;
using merge::YearStage;

namespace {

core::Result<merge::PlannedMove> plan(const YearStage& now, StageAction action,
                                      const std::string& target,
                                      merge::StageDecision decision = {}) {
  return merge::plan_stage_move(now, {action, target, std::move(decision)});
}

YearStage at(const std::string& stage, bool open = false, int drafts = 1, int amendments = 0) {
  return {2024, stage, open, drafts, amendments};
}

const merge::StageDecision kDecided{"", "45/2024", "2024-02-20", ""};

}  // namespace

TEST_CASE("the stage machine allows each move only from its stage", "[stages]") {
  struct Row {
    YearStage now;
    StageAction action;
    std::string target;
    std::string entered;  // empty: refused
  };
  const std::vector<Row> rows = {
      {at("proposals", false, 0), StageAction::kAdvance, "draft", "draft-1"},
      {at("proposals", false, 0), StageAction::kAdvance, "consultation", ""},
      {at("proposals", false, 0), StageAction::kAdvance, "approved", ""},
      {at("draft-1"), StageAction::kAdvance, "consultation", "consultation"},
      {at("draft-1"), StageAction::kAdvance, "draft", ""},
      {at("draft-1"), StageAction::kReopen, "draft", "draft-2"},
      {at("consultation", false, 2), StageAction::kReopen, "draft", "draft-3"},
      {at("consultation"), StageAction::kAdvance, "committee", "committee"},
      {at("consultation"), StageAction::kAdvance, "approved", ""},
      {at("committee"), StageAction::kReopen, "draft", ""},
      {at("committee"), StageAction::kAdvance, "approved", "approved"},
      {at("approved"), StageAction::kAdvance, "amendment", "amendment-1"},
      {at("approved"), StageAction::kClose, "amendment-1", ""},
      {at("amendment-1", true, 1, 1), StageAction::kAdvance, "amendment", ""},
      {at("amendment-1", true, 1, 1), StageAction::kClose, "amendment-1", "amendment-1"},
      {at("amendment-1", true, 1, 1), StageAction::kClose, "amendment-2", ""},
      {at("amendment-1", false, 1, 1), StageAction::kAdvance, "amendment", "amendment-2"},
      {at("amendment-1", false, 1, 1), StageAction::kReopen, "draft", ""},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(row.now.stage << " " << merge::to_string(row.action) << " " << row.target) {
      auto planned = plan(row.now, row.action, row.target, kDecided);
      if (row.entered.empty()) {
        REQUIRE_FALSE(planned);
        CHECK(planned.error().code == core::ErrorCode::kStageLocked);
        CHECK_THAT(planned.error().message, Catch::Contains("'" + row.now.stage + "'"));
      } else {
        INFO((planned ? std::string() : planned.error().message));
        REQUIRE(planned);
        CHECK(planned->name == row.entered);
        CHECK(planned->freezes ==
              !(row.action == StageAction::kAdvance && row.target == "amendment"));
      }
    }
  }
}

TEST_CASE("a stage move records its decision: number and date from the committee on", "[stages]") {
  auto no_number = plan(at("consultation"), StageAction::kAdvance, "committee");
  REQUIRE_FALSE(no_number);
  CHECK(no_number.error().code == core::ErrorCode::kInvalidArgument);
  CHECK_THAT(no_number.error().message, Catch::Contains("--decision NO/YEAR --date DD/MM/YYYY"));
  for (const auto* bad : {"2024-02-30", "30/02/2024", "2024-2-20", "2024-02-20x", "20.02.2024",
                          "20/02-2024", "2/2/2024", "-024-02-20", "20/02/+024"}) {
    auto refused =
        plan(at("consultation"), StageAction::kAdvance, "committee", {"", "45/2024", bad, ""});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message,
               Catch::Contains(bad) && Catch::Contains("22/01/2024, 22-01-2024 or 2024-01-22"));
  }
  // The forms a clerk types are recorded as YYYY-MM-DD.
  for (const auto* good : {"20/02/2024", "20-02-2024", "2024-02-20"}) {
    auto planned =
        plan(at("consultation"), StageAction::kAdvance, "committee", {"", "45/2024", good, ""});
    INFO(good);
    REQUIRE(planned);
    CHECK(planned->decision.date == "2024-02-20");
  }
  auto draft = plan(at("proposals", false, 0), StageAction::kAdvance, "draft");
  REQUIRE(draft);  // no number needed before the committee
  CHECK(draft->decision.body == "Τμήμα Προγραμματισμού");
  auto approved = plan(at("committee"), StageAction::kAdvance, "approved",
                       {"Δημοτικό Συμβούλιο (έκτακτη)", "101/2024", "2024-03-01", "6ΞΥ4ΩΗΓ-1ΑΒ"});
  REQUIRE(approved);
  CHECK(approved->decision.body == "Δημοτικό Συμβούλιο (έκτακτη)");
  CHECK_FALSE(plan(at("amendment-1", true, 1, 1), StageAction::kClose, "amendment-1"));
  CHECK_FALSE(plan(at("draft-1"), StageAction::kAdvance, "council"));
  CHECK_FALSE(plan(at("draft-1"), StageAction::kReopen, "consultation"));
  // An amendment opens on the Municipal Committee's proposal, numbered and dated.
  CHECK_FALSE(plan(at("approved"), StageAction::kAdvance, "amendment"));
  auto opened = plan(at("approved"), StageAction::kAdvance, "amendment", kDecided);
  REQUIRE(opened);
  CHECK(opened->decision.body == "Δημοτική Επιτροπή");
}

TEST_CASE("decision numbers are N/YYYY and an ΑΔΑ is Diavgeia's, Latin look-alikes read as Greek",
          "[stages]") {
  auto committee = [](const std::string& number, const std::string& ada) {
    return plan(at("consultation"), StageAction::kAdvance, "committee",
                {"", number, "2024-02-20", ada});
  };
  for (const auto* bad : {"45", "45/24", "/2024", "45/2024/1", "0/2024", "αβ/2024", "45 /2024"}) {
    auto refused = committee(bad, "");
    INFO(bad);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("NUMBER/YEAR, e.g. 45/2024"));
  }
  for (const auto* good_ada : {"6ΞΥ4ΩΗΓ-1ΑΒ", "ΨΑΒΓ46ΜΓΘΓ-ΧΥΖ"}) {
    auto planned = committee("45/2024", good_ada);
    INFO(good_ada);
    REQUIRE(planned);
    CHECK(planned->decision.ada == good_ada);
  }
  // Typed on a Latin keyboard: A, B, E, H, K, M, N, O, P, T, X, Y, Z, I read as Greek.
  auto latin = committee("45/2024", "6ΞY4ΩHΓ-1AB");
  REQUIRE(latin);
  CHECK(latin->decision.ada == "6ΞΥ4ΩΗΓ-1ΑΒ");
  for (const auto* bad : {"ΑΔΑ1", "6ΞΥ4ΩΗΓ1ΑΒ", "6ΞΥ4ΩΗ-1ΑΒ", "6ΞΥ4ΩΗΓ-1ΑΒΓ", "6ξυ4ωηγ-1αβ",
                          "6ΞΥ4ΩΗΓ-1Α-", "6ΞΥ4ΩΗΓ-1ΑW"}) {
    auto refused = committee("45/2024", bad);
    INFO(bad);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message,
               Catch::Contains("Diavgeia") && Catch::Contains("ΨΑΒΓ46ΜΓΘΓ-ΧΥΖ"));
  }
}

TEST_CASE("a decision date is not in the future nor before the previous move's", "[stages]") {
  CHECK(merge::check_decision_date("", "2024-03-01", "2024-05-01"));
  CHECK(merge::check_decision_date("2024-03-01", "", "2024-05-01"));
  CHECK(merge::check_decision_date("2024-03-01", "2024-03-01", "2024-03-01"));
  auto earlier = merge::check_decision_date("2024-02-28", "2024-03-01", "2024-05-01");
  REQUIRE_FALSE(earlier);
  CHECK_THAT(earlier.error().message, Catch::Contains("before the previous stage's decision"));
  auto future = merge::check_decision_date("2024-05-02", "2024-03-01", "2024-05-01");
  REQUIRE_FALSE(future);
  CHECK_THAT(future.error().message, Catch::Contains("02/05/2024 is after today (01/05/2024)"));
}

TEST_CASE("stage names as users type them", "[stages]") {
  auto now = at("consultation", false, 3);
  CHECK(merge::resolve_stage_name(now, "draft") == std::optional<std::string>("draft-3"));
  CHECK(merge::resolve_stage_name(now, "draft-1") == std::optional<std::string>("draft-1"));
  CHECK(merge::resolve_stage_name(now, "approved") == std::optional<std::string>("approved"));
  CHECK(merge::resolve_stage_name(now, "amendment-2") == std::optional<std::string>("amendment-2"));
  CHECK_FALSE(merge::resolve_stage_name(at("proposals", false, 0), "draft"));
  CHECK_FALSE(merge::resolve_stage_name(now, "draft-0"));
  CHECK_FALSE(merge::resolve_stage_name(now, "amendment-x"));
  CHECK_FALSE(merge::resolve_stage_name(now, "proposals"));
}

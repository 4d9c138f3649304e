#pragma once
// The programme's stages (DESIGN.md, "The programme's life") as a pure state machine: which
// move is allowed from where, what it freezes and under which name, and which decision it must
// record. The server runs it inside the transaction that freezes the master; the client runs
// it to refuse a move offline with the same words. Value types; thread-compatible.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.h"
#include "shared/merge/permission.h"

namespace ergon::merge {

/// Where one year's programme stands.
struct YearStage {
  int year = 0;
  std::string stage = "proposals";  // proposals, draft-N, consultation, committee, approved,
                                    // amendment-N
  bool is_amendment_open = false;
  int drafts = 0;      // draft freezes so far (the next reopened draft is drafts + 1)
  int amendments = 0;  // amendments opened so far
  StageLock lock() const { return {stage, is_amendment_open}; }
};

enum class StageAction { kAdvance, kReopen, kClose };
std::string_view to_string(StageAction action);
/// "advance", "reopen" or "close"; kInvalidArgument otherwise.
core::Result<StageAction> parse_stage_action(std::string_view text);

/// The act that moved the programme: the body that decided, its decision number (N/YYYY) and
/// date (YYYY-MM-DD; typed also as DD/MM/YYYY or DD-MM-YYYY), and the act's Diavgeia id (ΑΔΑ,
/// 7 or 10 Greek capitals and digits, a hyphen, 3 more). plan_stage_move refuses other forms
/// and returns the decision in these forms.
struct StageDecision {
  std::string body, number, date, ada;
};

/// A move as planning asks for it: `advance draft`, `reopen draft`, `close amendment-2`.
struct StageMove {
  StageAction action = StageAction::kAdvance;
  std::string target;
  StageDecision decision;
};

/// What an allowed move does.
struct PlannedMove {
  YearStage after;
  std::string name;        // the stage entered or closed: draft-2, committee, amendment-1
  bool freezes = true;     // false only when an amendment is opened (its closing freezes)
  StageDecision decision;  // with the body filled in when none was given
};

/// The move from `now`, or why not (kStageLocked for a move out of order, kInvalidArgument
/// for a missing or malformed decision, with what is allowed).
core::Result<PlannedMove> plan_stage_move(const YearStage& now, const StageMove& move);

/// The date rule of a stage record: `date` (YYYY-MM-DD, none: nothing to check) not after
/// `today` and not before `previous`, the last decision date recorded for the year (empty:
/// none; the year's start record has none).
core::Status check_decision_date(const std::string& date, const std::string& previous,
                                 const std::string& today);

/// The role table's stage locks for every open year, into `p` (stages and open years).
void set_years(Permission& p, const std::vector<YearStage>& years);

/// A frozen stage's name for a name as users type it: `draft` is the latest draft freeze,
/// `draft-1` the first; other names as they are. nullopt when `name` is no stage name.
std::optional<std::string> resolve_stage_name(const YearStage& now, std::string_view name);

}  // namespace ergon::merge

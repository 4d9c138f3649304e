#include "shared/merge/stages.h"

#include <charconv>
#include <chrono>

namespace ergon::merge {

using core::ErrorCode;
using core::fail;

namespace {

// The body whose act moves the programme into a stage, when the move names none.
std::string default_body(std::string_view entered) {
  if (entered.starts_with("draft")) return "Τμήμα Προγραμματισμού";
  if (entered == "consultation") return "Επιτροπή Διαβούλευσης";
  if (entered == "committee") return "Δημοτική Επιτροπή";
  return "Δημοτικό Συμβούλιο";  // approved, and an amendment's closing
}

bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int y = 0;
  unsigned m = 0, d = 0;
  auto number = [](std::string_view part, auto& out) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc{} && end == part.data() + part.size();
  };
  if (!number(text.substr(0, 4), y) || !number(text.substr(5, 2), m) ||
      !number(text.substr(8, 2), d))
    return false;
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{d}}
      .ok();
}

int number_after(std::string_view name, std::string_view prefix) {
  int n = 0;
  if (!name.starts_with(prefix)) return 0;
  auto digits = name.substr(prefix.size());
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc{} && end == digits.data() + digits.size() ? n : 0;
}

core::Status check_decision(const StageDecision& d, std::string_view entered, bool required) {
  if (!d.date.empty() && !is_date(d.date))
    return fail(ErrorCode::kInvalidArgument,
                "--date: '" + d.date + "' is not a date; write it as YYYY-MM-DD (2024-03-05)");
  if (required && (d.number.empty() || d.date.empty()))
    return fail(ErrorCode::kInvalidArgument,
                std::string(entered) +
                    ": the decision that moves the programme here needs its number and date "
                    "(--decision NO --date YYYY-MM-DD)");
  return {};
}

std::string where(const YearStage& now) {
  return "the programme of " + std::to_string(now.year) + " is at '" + now.stage +
         (now.is_amendment_open ? "' (open)" : "'");
}

core::Result<PlannedMove> advance(const YearStage& now, const StageMove& move) {
  PlannedMove planned{now, move.target, true, move.decision};
  auto refuse = [&](const std::string& next) {
    return fail(ErrorCode::kStageLocked,
                where(now) + ": it cannot go to '" + move.target + "'; " + next);
  };
  const auto& at = now.stage;
  if (move.target == "draft") {
    if (at != "proposals")
      return refuse(
          "a draft is frozen once from 'proposals'; before the committee, 'ergon stage reopen "
          "draft' freezes a new one");
    planned.name = "draft-" + std::to_string(now.drafts + 1);
    ++planned.after.drafts;
  } else if (move.target == "consultation") {
    if (!at.starts_with("draft")) return refuse("only a draft goes to consultation");
  } else if (move.target == "committee") {
    if (at != "consultation") return refuse("the committee comes after consultation");
  } else if (move.target == "approved") {
    if (at != "committee") return refuse("the council approves after the committee");
  } else if (move.target == "amendment") {
    if (at != "approved" && !at.starts_with("amendment"))
      return refuse("amendments come after the council's approval");
    if (now.is_amendment_open)
      return refuse("amendment '" + at + "' is open; close it first with 'ergon stage close " + at +
                    " --decision NO --date YYYY-MM-DD'");
    planned.name = "amendment-" + std::to_string(now.amendments + 1);
    planned.freezes = false;
    planned.after.is_amendment_open = true;
    ++planned.after.amendments;
  } else {
    return fail(ErrorCode::kInvalidArgument,
                "'" + move.target +
                    "' is not a stage to advance to; the stages are draft, consultation, "
                    "committee, approved, amendment");
  }
  planned.after.stage = planned.name;
  bool required = planned.freezes && (move.target == "committee" || move.target == "approved");
  ERGON_TRY(check_decision(move.decision, planned.name, required));
  return planned;
}

}  // namespace

std::string_view to_string(StageAction action) {
  switch (action) {
    case StageAction::kAdvance:
      return "advance";
    case StageAction::kReopen:
      return "reopen";
    case StageAction::kClose:
      return "close";
  }
  return "advance";
}

core::Result<StageAction> parse_stage_action(std::string_view text) {
  for (auto action : {StageAction::kAdvance, StageAction::kReopen, StageAction::kClose})
    if (to_string(action) == text) return action;
  return fail(ErrorCode::kInvalidArgument,
              "'" + std::string(text) + "' is not a stage action: advance, reopen or close");
}

void set_years(Permission& p, const std::vector<YearStage>& years) {
  p.stages.clear();
  p.open_years.clear();
  for (const auto& y : years) {
    p.stages[y.year] = y.lock();
    p.open_years.push_back(y.year);
  }
}

core::Result<PlannedMove> plan_stage_move(const YearStage& now, const StageMove& move) {
  core::Result<PlannedMove> planned = fail(ErrorCode::kInternal, "no move");
  if (move.action == StageAction::kAdvance) {
    planned = advance(now, move);
  } else if (move.action == StageAction::kReopen) {
    if (move.target != "draft")
      return fail(
          ErrorCode::kInvalidArgument,
          "only the draft is reopened ('ergon stage reopen draft'), not '" + move.target + "'");
    if (!now.stage.starts_with("draft") && now.stage != "consultation")
      return fail(ErrorCode::kStageLocked,
                  where(now) +
                      ": the draft is reopened only before the committee, from a draft "
                      "or from consultation");
    PlannedMove reopened{now, "draft-" + std::to_string(now.drafts + 1), true, move.decision};
    ++reopened.after.drafts;
    reopened.after.stage = reopened.name;
    ERGON_TRY(check_decision(move.decision, reopened.name, false));
    planned = std::move(reopened);
  } else {
    if (number_after(move.target, "amendment-") == 0)
      return fail(ErrorCode::kInvalidArgument,
                  "only an amendment is closed ('ergon stage close amendment-N'), not '" +
                      move.target + "'");
    if (!now.is_amendment_open || now.stage != move.target)
      return fail(ErrorCode::kStageLocked,
                  where(now) + ": '" + move.target + "' is not the open amendment");
    PlannedMove closed{now, move.target, true, move.decision};
    closed.after.is_amendment_open = false;
    ERGON_TRY(check_decision(move.decision, move.target, true));
    planned = std::move(closed);
  }
  if (planned && planned->decision.body.empty())
    planned->decision.body = default_body(planned->name);
  return planned;
}

std::optional<std::string> resolve_stage_name(const YearStage& now, std::string_view name) {
  if (name == "draft") {
    if (now.drafts == 0) return std::nullopt;
    return "draft-" + std::to_string(now.drafts);
  }
  if (name == "consultation" || name == "committee" || name == "approved") return std::string(name);
  if (number_after(name, "draft-") > 0 || number_after(name, "amendment-") > 0)
    return std::string(name);
  return std::nullopt;
}

}  // namespace ergon::merge

#include "shared/merge/stages.h"

#include <charconv>
#include <chrono>
#include <utility>

#include "shared/core/clock.h"

namespace ergon::merge {

using core::ErrorCode;
using core::fail;

namespace {

// The body whose act moves the programme into a stage, when the move names none.
std::string default_body(std::string_view entered, bool freezes) {
  if (entered.starts_with("draft")) return "Τμήμα Προγραμματισμού";
  if (entered.starts_with("amendment") && !freezes) return "Δημοτική Επιτροπή";  // its proposal
  if (entered == "consultation") return "Επιτροπή Διαβούλευσης";
  if (entered == "committee") return "Δημοτική Επιτροπή";
  return "Δημοτικό Συμβούλιο";  // approved, and an amendment's closing
}

// Digits only (no sign), read into `out`.
bool is_number(std::string_view part, auto& out) {
  if (part.empty() || part.find_first_not_of("0123456789") != std::string_view::npos) return false;
  auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
  return ec == std::errc{} && end == part.data() + part.size();
}

// YYYY-MM-DD of a date written so, or as DD/MM/YYYY or DD-MM-YYYY (the forms a clerk types);
// nullopt for anything else or a day the calendar lacks.
std::optional<std::string> iso_date(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  bool is_iso = text.size() == 10 && text[4] == '-' && text[7] == '-';
  bool is_greek = text.size() == 10 && text[2] == text[5] && (text[2] == '/' || text[2] == '-');
  if (is_iso) {
    if (!is_number(text.substr(0, 4), y) || !is_number(text.substr(5, 2), m) ||
        !is_number(text.substr(8, 2), d))
      return std::nullopt;
  } else if (is_greek) {
    if (!is_number(text.substr(6, 4), y) || !is_number(text.substr(3, 2), m) ||
        !is_number(text.substr(0, 2), d))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m},
                                   std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  if (is_iso) return std::string(text);
  return std::string(text.substr(6, 4)) + "-" + std::string(text.substr(3, 2)) + "-" +
         std::string(text.substr(0, 2));
}

// A council or committee decision number: N/YYYY (45/2024).
bool is_decision_number(std::string_view text) {
  auto slash = text.find('/');
  unsigned n = 0;
  int year = 0;
  return slash != std::string_view::npos && slash <= 6 && text.size() == slash + 5 &&
         is_number(text.substr(0, slash), n) && n > 0 && is_number(text.substr(slash + 1), year);
}

// The Greek capital a Latin capital looks like (A → Α), for an ΑΔΑ typed on a Latin keyboard.
constexpr std::pair<char, std::string_view> kGreekAlike[] = {
    {'A', "Α"}, {'B', "Β"}, {'E', "Ε"}, {'Z', "Ζ"}, {'H', "Η"}, {'I', "Ι"}, {'K', "Κ"},
    {'M', "Μ"}, {'N', "Ν"}, {'O', "Ο"}, {'P', "Ρ"}, {'T', "Τ"}, {'Y', "Υ"}, {'X', "Χ"}};

// Diavgeia's id of an act (ΑΔΑ): Greek capitals and digits, 7 or 10 of them, a hyphen, 3 more
// (6ΞΥ4ΩΗΓ-1ΑΒ, ΨΑΒΓ46ΜΓΘΓ-ΧΥΖ); Latin look-alikes are read as the Greek letters they look
// like. nullopt when it is not of that form.
std::optional<std::string> diavgeia_id(std::string_view text) {
  std::string out;
  std::size_t before = 0, after = 0;
  bool is_after = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '-' && !is_after) {
      is_after = true;
      out += '-';
      continue;
    }
    std::string letter;
    if (c >= '0' && c <= '9') letter = std::string(1, static_cast<char>(c));
    for (const auto& [latin, greek] : kGreekAlike)
      if (c == static_cast<unsigned char>(latin)) letter = greek;
    // U+0391..U+03A9 (no U+03A2): CE 91..CE A9 in UTF-8.
    if (c == 0xCE && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x91 && next <= 0xA9 && next != 0xA2) letter = text.substr(i++, 2);
    }
    if (letter.empty()) return std::nullopt;
    out += letter;
    ++(is_after ? after : before);
  }
  if (!is_after || (before != 7 && before != 10) || after != 3) return std::nullopt;
  return out;
}

int number_after(std::string_view name, std::string_view prefix) {
  int n = 0;
  if (!name.starts_with(prefix)) return 0;
  auto digits = name.substr(prefix.size());
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc{} && end == digits.data() + digits.size() ? n : 0;
}

// The decision as recorded: its date as YYYY-MM-DD and its ΑΔΑ in Greek letters, or why not.
core::Status check_decision(StageDecision& d, std::string_view entered, bool required) {
  if (!d.date.empty()) {
    auto date = iso_date(d.date);
    if (!date)
      return fail(ErrorCode::kInvalidArgument,
                  "--date: '" + d.date +
                      "' is not a date; write it as 22/01/2024, 22-01-2024 or 2024-01-22");
    d.date = *date;
  }
  if (!d.number.empty() && !is_decision_number(d.number))
    return fail(ErrorCode::kInvalidArgument,
                "--decision: '" + d.number +
                    "' is not a decision number; write it as NUMBER/YEAR, e.g. 45/2024");
  if (!d.ada.empty()) {
    auto ada = diavgeia_id(d.ada);
    if (!ada)
      return fail(ErrorCode::kInvalidArgument,
                  "--ada: '" + d.ada +
                      "' is not a Diavgeia id (ΑΔΑ); it is 7 or 10 Greek capitals and digits, a "
                      "hyphen and 3 more, e.g. 6ΞΥ4ΩΗΓ-1ΑΒ or ΨΑΒΓ46ΜΓΘΓ-ΧΥΖ");
    d.ada = *ada;
  }
  if (required && (d.number.empty() || d.date.empty()))
    return fail(ErrorCode::kInvalidArgument,
                std::string(entered) +
                    ": the decision that moves the programme here needs its number and date "
                    "(--decision NO/YEAR --date DD/MM/YYYY)");
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
  // The committee, the council and an amendment's opening (the Municipal Committee's
  // proposal; the council's decision closes it) each move the programme by a numbered act.
  bool required =
      move.target == "committee" || move.target == "approved" || move.target == "amendment";
  ERGON_TRY(check_decision(planned.decision, planned.name, required));
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
    ERGON_TRY(check_decision(reopened.decision, reopened.name, false));
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
    ERGON_TRY(check_decision(closed.decision, move.target, true));
    planned = std::move(closed);
  }
  if (planned && planned->decision.body.empty())
    planned->decision.body = default_body(planned->name, planned->freezes);
  return planned;
}

core::Status check_decision_date(const std::string& date, const std::string& previous,
                                 const std::string& today) {
  using core::format_human_date;
  if (date.empty()) return {};
  if (date > today)
    return fail(ErrorCode::kInvalidArgument, "--date: " + format_human_date(date) +
                                                 " is after today (" + format_human_date(today) +
                                                 "); a stage records a decision already taken");
  if (!previous.empty() && date < previous)
    return fail(ErrorCode::kInvalidArgument,
                "--date: " + format_human_date(date) +
                    " is before the previous stage's decision (" + format_human_date(previous) +
                    "); the programme's stages follow each other in time");
  return {};
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

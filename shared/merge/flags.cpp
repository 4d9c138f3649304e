#include "shared/merge/flags.h"

#include <limits>

#include "shared/core/numbers.h"

namespace ergon::merge {

std::map<std::string, RaisedFlag> raise_flags(const YearFigures& figures) {
  std::map<std::string, RaisedFlag> raised;
  auto year = std::to_string(figures.year);
  for (const auto& [code, uses] : figures.live_ka_uses) {
    if (uses <= 1) continue;
    auto users = figures.ka_users.find(code);
    std::string id = "ka:" + year;
    id += ":" + code;
    std::string message = "ΚΑ " + code;
    message += " is used by " + std::to_string(uses);
    message += " live proposals of " + year;
    raised[id] = {"ka", message, uses,
                  users == figures.ka_users.end() ? std::vector<std::string>{} : users->second};
  }
  std::map<std::string, model::Money> allocated;
  std::map<std::string, std::vector<std::string>> on_source;
  for (const auto& p : figures.included)
    for (const auto& line : p.funding) {
      // An overflowing sum keeps the last representable one: far above any envelope anyway.
      allocated[line.source] =
          allocated[line.source].plus(line.amount).value_or(allocated[line.source]);
      on_source[line.source].push_back(p.id.hex());
    }
  for (const auto& [source, envelope] : figures.envelopes) {
    if (!(allocated[source] > envelope)) continue;
    std::string id = "envelope:" + year;
    id += ":" + source;
    std::string message = "included allocations on " + source;
    message += " are " + allocated[source].greek_euro();
    message += ", above the envelope of " + envelope.greek_euro();
    raised[id] = {"envelope", message, allocated[source].minus(envelope).cents(),
                  on_source[source]};
  }
  auto before = std::to_string(figures.year - 1);
  for (const auto& [id, title] : figures.continuing_before) {
    if (figures.carried.contains(id)) continue;
    std::string flag_id = "continuing:" + year;
    flag_id += ":" + id;
    std::string message = "the continuing work '" + title;
    message += "' of " + before;
    message += " is missing from the " + year;
    message += " programme; carry it (ergon year start " + year;
    message += ") or acknowledge why it ends";
    raised[flag_id] = {"continuing", message, 1, {id}};
  }
  return raised;
}

bool continues_next_year(const model::Proposal& p) {
  bool is_work_or_study =
      p.category == model::Category::kWork || p.category == model::Category::kStudy;
  return p.state == model::State::kIncluded && is_work_or_study &&
         p.status != model::WorkStatus::kCompleted && p.status != model::WorkStatus::kRemoved;
}

void add_continuity(YearFigures& figures, const std::vector<model::Proposal>& proposals) {
  for (const auto& p : proposals)
    if (p.year == figures.year - 1 && continues_next_year(p))
      figures.continuing_before[p.id.hex()] = p.title;
  if (figures.continuing_before.empty()) return;
  for (const auto& p : proposals) {
    bool is_live = p.state != model::State::kWithdrawn && p.state != model::State::kRejected;
    if (p.year == figures.year && is_live && p.predecessor_id)
      figures.carried.insert(p.predecessor_id->hex());
  }
}

std::optional<int> flag_year(std::string_view id) {
  auto first = id.find(':');
  auto second = first == std::string_view::npos ? first : id.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto year = core::parse_number<int>(id.substr(first + 1, second - first - 1), "flag year");
  return year ? std::optional(*year) : std::nullopt;
}

std::optional<std::string> check_flag_ack(const std::string& id, const std::string& reason,
                                          bool is_planning, bool is_budget) {
  bool is_money = id.starts_with("envelope:");
  if (!is_planning && !(is_budget && is_money))
    return is_budget ? "budget acknowledges money (envelope) flags only; " + id + " is planning's"
                     : "only planning (and budget, for money flags) acknowledges flags";
  if (reason.empty()) return "an acknowledgement needs a reason (--reason TEXT)";
  return std::nullopt;
}

std::string_view to_string(FlagStatus status) {
  switch (status) {
    case FlagStatus::kOpen:
      return "open";
    case FlagStatus::kAcknowledged:
      return "acknowledged";
    case FlagStatus::kCleared:
      break;
  }
  return "cleared";
}

core::Result<FlagStatus> parse_flag_status(std::string_view text) {
  for (auto status : {FlagStatus::kOpen, FlagStatus::kAcknowledged, FlagStatus::kCleared})
    if (to_string(status) == text) return status;
  return core::fail(
      core::ErrorCode::kCorrupt,
      "'" + std::string(text) + "' is not a flag status (open, acknowledged, cleared)");
}

FlagUpdate update_flags(const std::map<std::string, RaisedFlag>& raised,
                        const std::map<std::string, StoredFlag>& stored) {
  FlagUpdate update;
  for (const auto& [id, flag] : raised) {
    auto it = stored.find(id);
    if (it == stored.end() || it->second.status == FlagStatus::kCleared)
      update.opened.emplace_back(id, flag.message);
    else if (it->second.status == FlagStatus::kAcknowledged &&
             flag.level > it->second.acknowledged_level)
      update.reopened.emplace_back(id, flag.message);
    else
      update.refreshed.emplace_back(id, flag.message);
  }
  for (const auto& [id, flag] : stored)
    if (!raised.contains(id) && flag.status != FlagStatus::kCleared) update.cleared.push_back(id);
  return update;
}

std::vector<EnvelopeUse> envelope_uses(int year, const std::vector<model::Proposal>& proposals,
                                       const std::map<std::string, model::Money>& envelopes) {
  auto add = [](model::Money a, model::Money b) {
    return a.plus(b).value_or(model::Money::from_cents(std::numeric_limits<std::int64_t>::max()));
  };
  std::map<std::string, EnvelopeUse> by_source;
  for (const auto& [source, amount] : envelopes) {
    by_source[source].source = source;
    by_source[source].envelope = amount;
  }
  for (const auto& p : proposals) {
    bool is_included = p.state == model::State::kIncluded;
    if (p.year != year || (!is_included && p.state != model::State::kSubmitted)) continue;
    for (const auto& line : p.funding) {
      auto& use = by_source[line.source];
      use.source = line.source;
      use.requested = add(use.requested, line.amount);
      if (is_included) use.allocated = add(use.allocated, line.amount);
    }
  }
  std::vector<EnvelopeUse> out;
  for (auto& [source, use] : by_source) {
    if (use.envelope) use.remaining = use.envelope->minus(use.allocated);
    out.push_back(std::move(use));
  }
  return out;
}

}  // namespace ergon::merge

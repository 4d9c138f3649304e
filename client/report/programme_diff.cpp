#include "client/report/programme_diff.h"

#include "shared/model/fields.h"

namespace ergon::client {
namespace {

using model::Proposal;

std::map<std::string, const Proposal*> by_id(const std::vector<Proposal>& proposals) {
  std::map<std::string, const Proposal*> out;
  for (const auto& p : proposals) out[p.id.hex()] = &p;
  return out;
}

// The programme is what planning included: the totals and the per-source allocations count
// those only (the one definition of "allocated", as `envelopes` and `report` use it).
bool is_counted(const Proposal& p) { return p.state == model::State::kIncluded; }

std::int64_t counted(const Proposal* p, const model::Money Proposal::*member) {
  return p && is_counted(*p) ? (p->*member).cents() : 0;
}

ProposalDelta delta_of(const Proposal* before, const Proposal* after) {
  const Proposal& named = after ? *after : *before;
  ProposalDelta d{named.id.hex(), named.title, named.directorate, {}, 0, 0, 0, 0};
  d.total_before = before ? before->total_budget.cents() : 0;
  d.total_after = after ? after->total_budget.cents() : 0;
  d.allocation_before = before ? before->allocation.cents() : 0;
  d.allocation_after = after ? after->allocation.cents() : 0;
  if (before && after) {
    auto old_values = model::all_values(*before);
    auto new_values = model::all_values(*after);
    for (const auto& spec : model::all_fields()) {
      std::string name(spec.name);
      auto old_it = old_values.find(name);
      auto new_it = new_values.find(name);
      auto old_text = old_it == old_values.end() ? std::string() : old_it->second;
      auto new_text = new_it == new_values.end() ? std::string() : new_it->second;
      if (old_text != new_text) d.fields.push_back({name, old_text, new_text});
    }
  }
  return d;
}

void add_funding(std::map<std::string, SourceDelta>& sources, const Proposal& p, bool is_after) {
  if (!is_counted(p)) return;
  for (const auto& line : p.funding) {
    auto& s = sources[line.source];
    s.source = line.source;
    (is_after ? s.after : s.before) += line.amount.cents();
  }
}

void add_envelopes(std::map<std::string, SourceDelta>& sources,
                   const std::map<std::string, model::Money>& envelopes, bool is_after) {
  for (const auto& [key, amount] : envelopes) {
    auto colon = key.find(':');
    auto source = colon == std::string::npos ? key : key.substr(colon + 1);
    auto& s = sources[source];
    s.source = source;
    (is_after ? s.envelope_after : s.envelope_before) += amount.cents();
  }
}

}  // namespace

ProgrammeDiff diff_programmes(const std::vector<Proposal>& before,
                              const std::vector<Proposal>& after,
                              const std::map<std::string, model::Money>& envelopes_before,
                              const std::map<std::string, model::Money>& envelopes_after) {
  ProgrammeDiff diff;
  auto old_rows = by_id(before);
  auto new_rows = by_id(after);
  for (const auto& [id, p] : new_rows) {
    auto old = old_rows.find(id);
    if (old == old_rows.end()) {
      diff.added.push_back(delta_of(nullptr, p));
    } else if (!(*old->second == *p)) {
      diff.changed.push_back(delta_of(old->second, p));
    }
  }
  for (const auto& [id, p] : old_rows)
    if (!new_rows.contains(id)) diff.removed.push_back(delta_of(p, nullptr));
  std::map<std::string, SourceDelta> sources;
  for (const auto& [id, p] : old_rows) {
    add_funding(sources, *p, false);
    diff.allocation_before += counted(p, &Proposal::allocation);
    diff.total_before += counted(p, &Proposal::total_budget);
  }
  for (const auto& [id, p] : new_rows) {
    add_funding(sources, *p, true);
    diff.allocation_after += counted(p, &Proposal::allocation);
    diff.total_after += counted(p, &Proposal::total_budget);
  }
  add_envelopes(sources, envelopes_before, false);
  add_envelopes(sources, envelopes_after, true);
  for (auto& [source, s] : sources) diff.sources.push_back(std::move(s));
  return diff;
}

}  // namespace ergon::client

#include "client/report/programme_report.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace ergon::client {
namespace {

using model::Money;
using model::Proposal;

Money add(Money a, Money b) {
  return a.plus(b).value_or(Money::from_cents(std::numeric_limits<std::int64_t>::max()));
}

bool is_flagged(const Proposal& p, const std::vector<ReportFlag>& flags) {
  auto id = p.id.hex();
  return std::any_of(flags.begin(), flags.end(), [&](const ReportFlag& f) {
    return std::find(f.proposals.begin(), f.proposals.end(), id) != f.proposals.end();
  });
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Per source: the funding of every row the totals count (requested) and of the included ones
// (allocated), against the envelope.
std::vector<merge::EnvelopeUse> source_uses(const ProgrammeReport& report,
                                            const std::map<std::string, Money>& envelopes) {
  std::map<std::string, merge::EnvelopeUse> by_source;
  for (const auto& [source, amount] : envelopes) {
    by_source[source].source = source;
    by_source[source].envelope = amount;
  }
  for (const auto& d : report.directorates)
    for (const auto& g : d.groups)
      for (const auto& r : g.rows) {
        if (!r.is_counted) continue;
        for (const auto& line : r.proposal->funding) {
          auto& use = by_source[line.source];
          use.source = line.source;
          use.requested = add(use.requested, line.amount);
          if (r.proposal->state == model::State::kIncluded)
            use.allocated = add(use.allocated, line.amount);
        }
      }
  std::vector<merge::EnvelopeUse> out;
  for (auto& [source, use] : by_source) {
    if (use.envelope) use.remaining = use.envelope->minus(use.allocated);
    out.push_back(std::move(use));
  }
  return out;
}

}  // namespace

ProgrammeReport build_report(const std::vector<Proposal>& proposals,
                             const model::ReferenceData& ref, const ReportOptions& options) {
  std::map<std::string, std::map<model::Category, std::vector<const Proposal*>>> grouped;
  for (const auto& p : proposals) {
    if (p.year != options.year) continue;
    if (!options.include_out_of_programme && !model::is_in_programme(p.state)) continue;
    grouped[p.directorate][p.category].push_back(&p);
  }
  ProgrammeReport report;
  report.year = options.year;
  report.flags = options.flags;
  report.stage = options.stage;
  int number = 0;
  for (auto& [code, by_category] : grouped) {
    const auto* d = ref.directorate(code);
    ReportDirectorate directorate{code, d ? d->name_el : code, {}, {}, {}};
    for (auto& [category, rows] : by_category) {
      std::sort(rows.begin(), rows.end(), [](const Proposal* a, const Proposal* b) {
        return std::tie(a->priority, a->title, a->id) < std::tie(b->priority, b->title, b->id);
      });
      ReportGroup group{category, {}, {}, {}};
      for (const auto* p : rows) {
        bool counted = model::is_in_programme(p->state);
        group.rows.push_back({++number, p, counted, is_flagged(*p, options.flags)});
        if (!counted) continue;
        group.total_budget = add(group.total_budget, p->total_budget);
        group.allocation = add(group.allocation, p->allocation);
        ++report.counted_rows;
      }
      directorate.total_budget = add(directorate.total_budget, group.total_budget);
      directorate.allocation = add(directorate.allocation, group.allocation);
      directorate.groups.push_back(std::move(group));
    }
    report.total_budget = add(report.total_budget, directorate.total_budget);
    report.allocation = add(report.allocation, directorate.allocation);
    report.directorates.push_back(std::move(directorate));
  }
  report.sources = source_uses(report, options.envelopes);
  return report;
}

std::string_view category_el(model::Category c) {
  switch (c) {
    case model::Category::kWork:
      return "ΕΡΓΑ";
    case model::Category::kStudy:
      return "ΜΕΛΕΤΕΣ";
    case model::Category::kSupply:
      return "ΠΡΟΜΗΘΕΙΕΣ";
    case model::Category::kService:
      return "ΥΠΗΡΕΣΙΕΣ";
  }
  return "";
}

std::string_view continuity_el(model::Continuity c) {
  return c == model::Continuity::kNew ? "Νέο" : "Συνεχιζόμενο";
}

std::string_view state_el(model::State s) {
  switch (s) {
    case model::State::kDraft:
      return "Σχέδιο";
    case model::State::kSubmitted:
      return "Υποβλήθηκε";
    case model::State::kIncluded:
      return "Εντάχθηκε";
    case model::State::kDeferred:
      return "Αναβλήθηκε";
    case model::State::kRejected:
      return "Απορρίφθηκε";
    case model::State::kWithdrawn:
      return "Αποσύρθηκε";
  }
  return "";
}

std::string_view work_status_el(model::WorkStatus s) {
  switch (s) {
    case model::WorkStatus::kMaturing:
      return "υπό ωρίμανση";
    case model::WorkStatus::kTendering:
      return "σε διαδικασία σύναψης";
    case model::WorkStatus::kContracted:
      return "εκτελούμενο";
    case model::WorkStatus::kCompleted:
      return "ολοκληρωμένο";
    case model::WorkStatus::kRemoved:
      return "απένταξη";
  }
  return "";
}

std::string stage_el(std::string_view stage) {
  std::string name(stage);
  if (stage == "proposals") return "Προτάσεις Διευθύνσεων (" + name + ")";
  if (starts_with(stage, "draft")) return "Προσχέδιο (" + name + ")";
  if (stage == "consultation") return "Γνώμη Επιτροπής Διαβούλευσης (" + name + ")";
  if (stage == "committee") return "Δημοτική Επιτροπή (" + name + ")";
  if (stage == "approved") return "Έγκριση Δημοτικού Συμβουλίου (" + name + ")";
  if (starts_with(stage, "amendment-")) return "Τροποποίηση " + name.substr(10) + " (" + name + ")";
  return name;
}

std::vector<std::string> stage_lines(const ReportStage& stage) {
  std::vector<std::string> lines;
  if (!stage.name.empty()) {
    lines.push_back("Στάδιο: " + stage_el(stage.name));
  } else if (!stage.as_of.empty()) {
    lines.push_back("Όπως ίσχυε στις " + stage.as_of + " (όχι παγωμένο στάδιο)");
  } else {
    lines.emplace_back("Τρέχουσα εικόνα αυτού του σταθμού (όχι παγωμένο στάδιο)");
  }
  if (!stage.number.empty() || !stage.date.empty()) {
    std::string decision = "Απόφαση " + (stage.number.empty() ? "—" : stage.number);
    if (!stage.body.empty()) decision += " του οργάνου: " + stage.body;
    if (!stage.date.empty()) decision += ", ημερομηνία " + stage.date;
    if (!stage.ada.empty()) decision += ", ΑΔΑ " + stage.ada;
    lines.push_back(decision);
  }
  if (!stage.checkpoint.empty())
    lines.push_back("Σημείο ελέγχου (εγγραφή : κεφαλή αλυσίδας): " + stage.checkpoint);
  return lines;
}

std::string funding_text(const Proposal& p) {
  std::string out;
  for (const auto& line : p.funding)
    out += (out.empty() ? "" : " · ") + line.source + " " + line.amount.greek_euro();
  return out;
}

std::string area_name(const model::ReferenceData& ref, const std::string& code) {
  const auto* area = ref.area(code);
  return area ? area->name_el : code;
}

}  // namespace ergon::client

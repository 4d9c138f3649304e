#include "client/report/programme_report.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <tuple>

#include "shared/core/clock.h"

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

// The table's order within a category: priority, ΚΑ code (rows without one last), title, id.
bool comes_before(const Proposal* a, const Proposal* b) {
  auto key = [](const Proposal* p) {
    return std::make_tuple(p->priority, p->ka_code ? 0 : 1,
                           p->ka_code ? p->ka_code->canonical() : std::string(),
                           std::cref(p->title), std::cref(p->id));
  };
  return key(a) < key(b);
}

// Whether the main table lists and sums a row: the programme proper lists what planning
// included; the proposals' table every proposal still in the running.
bool is_listed(const Proposal& p, bool is_programme) {
  return is_programme ? p.state == model::State::kIncluded : model::is_in_programme(p.state);
}

bool is_selected(const Proposal& p, const ReportOptions& o) {
  return p.year == o.year && (o.directorate.empty() || p.directorate == o.directorate) &&
         (o.area.empty() || p.area == o.area);
}

}  // namespace

bool is_programme_stage(std::string_view stage) { return !stage.empty() && stage != "proposals"; }

std::string report_title(const ProgrammeReport& report) {
  return std::string(report.is_programme ? "ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ "
                                         : "ΠΡΟΤΑΣΕΙΣ ΓΙΑ ΤΟ ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ ") +
         std::to_string(report.year);
}

ProgrammeReport build_report(const std::vector<Proposal>& proposals,
                             const model::ReferenceData& ref, const ReportOptions& options) {
  std::map<std::string, std::map<model::Category, std::vector<const Proposal*>>> grouped;
  std::vector<const Proposal*> left_out;
  std::vector<Proposal> selected;
  for (const auto& p : proposals) {
    if (!is_selected(p, options)) continue;
    selected.push_back(p);
    if (is_listed(p, options.is_programme))
      grouped[p.directorate][p.category].push_back(&p);
    else if (options.list_not_included)
      left_out.push_back(&p);
  }
  ProgrammeReport report;
  report.year = options.year;
  report.municipality = options.municipality;
  report.is_programme = options.is_programme;
  report.is_part = !options.directorate.empty() || !options.area.empty();
  report.flags = options.flags;
  report.stage = options.stage;
  int number = 0;
  for (auto& [code, by_category] : grouped) {
    const auto* d = ref.directorate(code);
    ReportDirectorate directorate{code, d ? d->name_el : code, {}, {}, {}, {}};
    for (auto& [category, rows] : by_category) {
      std::sort(rows.begin(), rows.end(), comes_before);
      ReportGroup group{category, {}, {}, {}, {}};
      for (const auto* p : rows) {
        group.rows.push_back({++number, p, is_flagged(*p, options.flags)});
        group.total_budget = add(group.total_budget, p->total_budget);
        group.paid_to_date = add(group.paid_to_date, p->paid_to_date);
        group.allocation = add(group.allocation, p->allocation);
        ++report.counted_rows;
      }
      directorate.total_budget = add(directorate.total_budget, group.total_budget);
      directorate.paid_to_date = add(directorate.paid_to_date, group.paid_to_date);
      directorate.allocation = add(directorate.allocation, group.allocation);
      directorate.groups.push_back(std::move(group));
    }
    report.total_budget = add(report.total_budget, directorate.total_budget);
    report.paid_to_date = add(report.paid_to_date, directorate.paid_to_date);
    report.allocation = add(report.allocation, directorate.allocation);
    report.directorates.push_back(std::move(directorate));
  }
  std::sort(left_out.begin(), left_out.end(), [](const Proposal* a, const Proposal* b) {
    return std::tie(a->directorate, a->category) != std::tie(b->directorate, b->category)
               ? std::tie(a->directorate, a->category) < std::tie(b->directorate, b->category)
               : comes_before(a, b);
  });
  int other = 0;
  for (const auto* p : left_out)
    report.not_included.push_back({++other, p, is_flagged(*p, options.flags)});
  // A part of the programme is not measured against the envelopes of the whole.
  report.sources = merge::envelope_uses(
      options.year, selected, report.is_part ? std::map<std::string, Money>{} : options.envelopes);
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
    if (!stage.date.empty()) decision += ", ημερομηνία " + core::format_human_date(stage.date);
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

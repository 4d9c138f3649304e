#include "client/report/programme_table.h"

#include <algorithm>
#include <map>

#include "shared/model/text.h"

namespace ergon::client {
namespace {

using model::Money;
using model::Proposal;

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

Money sum_or_keep(Money a, Money b) { return a.plus(b).value_or(a); }

}  // namespace

std::string fit(std::string_view text, std::size_t width, bool right) {
  std::size_t length = model::count_characters(text);
  if (length > width) {
    // Cut at a character boundary and mark the cut.
    std::string out;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      bool starts_char = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
      if (starts_char && chars++ == width - 1) break;
      out += text[i];
    }
    return out + "…";
  }
  std::string pad(width - length, ' ');
  return right ? pad + std::string(text) : std::string(text) + pad;
}

namespace {

// One proposal's line of the table.
std::string row_line(int number, const Proposal& p, const std::string& sources, bool flagged) {
  return fit(std::to_string(number), 4, true) + " " +
         fit(p.ka_code ? p.ka_code->canonical() : "—", 12) + " " + fit(p.title, 52) + " " +
         fit(p.total_budget.greek_euro(), 17, true) + " " +
         fit(p.allocation.greek_euro(), 16, true) + " " + fit(sources, 10) + " " +
         fit(p.new_or_continuing == model::Continuity::kNew ? "Ν" : "Σ", 3) + " " + fit(p.area, 9) +
         " " + fit(model::to_string(p.state), 10) + (flagged ? " ⚑" : "") + "\n";
}

// The totals per funding source, and the flags of the year (flagged rows carry ⚑).
std::string sources_and_flags(const std::map<std::string, Money>& by_source,
                              const model::ReferenceData& ref,
                              const std::vector<ReportFlag>& flags) {
  std::string out;
  for (const auto& [source, amount] : by_source) {
    const auto* s = ref.funding_source(source);
    out += "  " + fit(source, 6) + " " + fit(s ? s->name_el : "", 70) + " " +
           fit(amount.greek_euro(), 18, true) + "\n";
  }
  if (!flags.empty()) out += "\n⚑ Σημάνσεις ελέγχου\n";
  for (const auto& f : flags)
    out += "  " + f.id + ": " + f.message +
           (f.is_acknowledged ? " (έλεγχος: έγινε αποδεκτή)" : " (ανοικτή)") + "\n";
  return out;
}

}  // namespace

std::string render_programme_text(const std::vector<Proposal>& proposals,
                                  const model::ReferenceData& ref, const ReportOptions& options) {
  std::map<std::string, std::map<model::Category, std::vector<const Proposal*>>> groups;
  for (const auto& p : proposals) {
    if (p.year != options.year) continue;
    if (!options.include_withdrawn && p.state == model::State::kWithdrawn) continue;
    groups[p.directorate][p.category].push_back(&p);
  }

  const std::string rule(150, '-');
  std::string out = "ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ " + std::to_string(options.year) + "\n" + rule + "\n";
  out += fit("α/α", 4) + " " + fit("Κ.Α.", 12) + " " + fit("Τίτλος", 52) + " " +
         fit("Προϋπολογισμός", 17, true) + " " + fit("Πίστωση έτους", 16, true) + " " +
         fit("Πηγές", 10) + " " + fit("Ν/Σ", 3) + " " + fit("Περιοχή", 9) + " " +
         fit("Στάδιο", 10) + "\n" + rule + "\n";

  std::map<std::string, Money> by_source;
  Money grand_total, grand_allocation;
  int number = 0;
  for (const auto& [directorate, by_category] : groups) {
    const auto* d = ref.directorate(directorate);
    out += (d ? d->name_el : directorate) + " (" + directorate + ")\n";
    for (const auto& [category, rows] : by_category) {
      out += "  " + std::string(category_el(category)) + "\n";
      Money total, allocation;
      auto sorted = rows;
      std::sort(sorted.begin(), sorted.end(), [](const Proposal* a, const Proposal* b) {
        return std::tie(a->priority, a->title) < std::tie(b->priority, b->title);
      });
      for (const auto* p : sorted) {
        std::string sources;
        for (const auto& line : p->funding) {
          sources += (sources.empty() ? "" : ",") + line.source;
          by_source[line.source] = sum_or_keep(by_source[line.source], line.amount);
        }
        bool flagged = std::any_of(options.flags.begin(), options.flags.end(), [&](const auto& f) {
          return std::find(f.proposals.begin(), f.proposals.end(), p->id.hex()) !=
                 f.proposals.end();
        });
        out += row_line(++number, *p, sources, flagged);
        total = sum_or_keep(total, p->total_budget);
        allocation = sum_or_keep(allocation, p->allocation);
      }
      out += fit("", 4) + " " + fit("", 12) + " " +
             fit("Σύνολο " + std::string(category_el(category)) + " " + directorate, 52) + " " +
             fit(total.greek_euro(), 17, true) + " " + fit(allocation.greek_euro(), 16, true) +
             "\n";
      grand_total = sum_or_keep(grand_total, total);
      grand_allocation = sum_or_keep(grand_allocation, allocation);
    }
  }
  out += rule + "\n" + fit("", 4) + " " + fit("", 12) + " " +
         fit("ΓΕΝΙΚΟ ΣΥΝΟΛΟ (" + std::to_string(number) + " έργα και μελέτες)", 52) + " " +
         fit(grand_total.greek_euro(), 17, true) + " " +
         fit(grand_allocation.greek_euro(), 16, true) + "\n" + rule +
         "\n\nΑνά πηγή χρηματοδότησης\n";
  return out + sources_and_flags(by_source, ref, options.flags);
}

}  // namespace ergon::client

// The official table on a terminal: fixed width, padded by characters, titles wrapped.

#include <algorithm>

#include "client/report/programme_report.h"
#include "shared/model/text.h"

namespace ergon::client {

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

constexpr std::size_t kTitleWidth = 48;

// `text` in lines of at most `width` characters, broken between words (a word longer than a
// line is cut by fit() on its own line).
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines(1);
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find(' ', at);
    if (end == std::string_view::npos) end = text.size();
    auto word = text.substr(at, end - at);
    auto& line = lines.back();
    if (!line.empty() && model::count_characters(line) + 1 + model::count_characters(word) > width)
      lines.emplace_back(word);
    else
      line += (line.empty() ? "" : " ") + std::string(word);
    at = end + 1;
  }
  return lines;
}

std::string codes(const model::Proposal& p) {
  std::string out;
  for (const auto& line : p.funding) out += (out.empty() ? "" : ",") + line.source;
  return out;
}

std::string row_lines(const ReportRow& row, const model::ReferenceData& ref, bool with_reason) {
  const auto& p = *row.proposal;
  auto title = wrap(p.title, kTitleWidth);
  std::string out =
      fit(std::to_string(row.number), 4, true) + " " +
      fit(p.ka_code ? p.ka_code->canonical() : "—", 12) + " " + fit(title.front(), kTitleWidth) +
      " " + fit(p.total_budget.greek_euro(), 17, true) + " " +
      fit(p.paid_to_date.greek_euro(), 16, true) + " " + fit(p.allocation.greek_euro(), 16, true) +
      " " + fit(codes(p), 10) + " " + fit(continuity_el(p.new_or_continuing).substr(0, 2), 3) +
      " " + fit(area_name(ref, p.area), 18) + " " + fit(model::to_string(p.priority), 2) + " " +
      fit(state_el(p.state), 11) + (row.is_flagged ? " ⚑" : "");
  if (with_reason && !p.decision_reason.empty()) out += " " + p.decision_reason;
  out += "\n";
  for (std::size_t i = 1; i < title.size(); ++i)
    out += std::string(18, ' ') + fit(title[i], kTitleWidth) + "\n";
  return out;
}

std::string total_line(const std::string& label, model::Money total, model::Money paid,
                       model::Money allocation) {
  return std::string(18, ' ') + fit(label, kTitleWidth) + " " + fit(total.greek_euro(), 17, true) +
         " " + fit(paid.greek_euro(), 16, true) + " " + fit(allocation.greek_euro(), 16, true) +
         "\n";
}

std::string column_heads() {
  return fit("α/α", 4) + " " + fit("Κ.Α.", 12) + " " + fit("Τίτλος", kTitleWidth) + " " +
         fit("Προϋπολογισμός", 17, true) + " " + fit("Πληρωμές ως 31/12", 16, true) + " " +
         fit("Πίστωση έτους", 16, true) + " " + fit("Πηγές", 10) + " " + fit("Ν/Σ", 3) + " " +
         fit("Περιοχή", 18) + " " + fit("Π", 2) + " " + fit("Κατάσταση", 11) + "\n";
}

std::string sources_and_flags(const ProgrammeReport& report, const model::ReferenceData& ref) {
  // A part of the programme (one directorate or area) is not measured against the envelopes.
  std::string out = "\nΑνά πηγή χρηματοδότησης\n  " + fit("πηγή", 6) + " " + fit("", 44) + " " +
                    (report.is_part ? "" : fit("φάκελος", 18, true) + " ") +
                    fit("εγκεκριμένα", 18, true) + " " + fit("αιτούμενα", 18, true) + "\n";
  for (const auto& use : report.sources) {
    const auto* s = ref.funding_source(use.source);
    out += "  " + fit(use.source, 6) + " " + fit(s ? s->name_el : "", 44) + " " +
           (report.is_part
                ? ""
                : fit(use.envelope ? use.envelope->greek_euro() : "χωρίς όριο", 18, true) + " ") +
           fit(use.allocated.greek_euro(), 18, true) + " " +
           fit(use.requested.greek_euro(), 18, true) + (use.is_over() ? " ⚑ υπέρβαση" : "") + "\n";
  }
  if (!report.flags.empty()) out += "\n⚑ Σημάνσεις ελέγχου\n";
  for (const auto& f : report.flags)
    out += "  " + f.id + ": " + f.message +
           (f.is_acknowledged ? " (έλεγχος: έγινε αποδεκτή)" : " (ανοικτή)") + "\n";
  out += "\n";
  for (const auto& line : stage_lines(report.stage)) out += line + "\n";
  return out;
}

}  // namespace

std::string render_programme_text(const ProgrammeReport& report, const model::ReferenceData& ref) {
  const std::string rule(176, '-');
  std::string out = report.municipality.empty() ? "" : report.municipality + "\n";
  out += report_title(report) + "\n" + rule + "\n" + column_heads() + rule + "\n";
  for (const auto& directorate : report.directorates) {
    out += directorate.name + " (" + directorate.code + ")\n";
    for (const auto& group : directorate.groups) {
      out += "  " + std::string(category_el(group.category)) + "\n";
      for (const auto& row : group.rows) out += row_lines(row, ref, false);
      out +=
          total_line("Σύνολο " + std::string(category_el(group.category)) + " " + directorate.code,
                     group.total_budget, group.paid_to_date, group.allocation);
    }
    out += total_line("Σύνολο Διεύθυνσης " + directorate.code, directorate.total_budget,
                      directorate.paid_to_date, directorate.allocation);
  }
  out += rule + "\n" +
         total_line("ΓΕΝΙΚΟ ΣΥΝΟΛΟ (" + std::to_string(report.counted_rows) + " έργα και μελέτες)",
                    report.total_budget, report.paid_to_date, report.allocation) +
         rule + "\n";
  if (!report.not_included.empty()) {
    out += "\n" + std::string(kNotIncludedTitle) + " (εκτός συνόλων)\n" + rule + "\n";
    for (const auto& row : report.not_included) out += row_lines(row, ref, true);
    out += rule + "\n";
  }
  return out + sources_and_flags(report, ref);
}

}  // namespace ergon::client

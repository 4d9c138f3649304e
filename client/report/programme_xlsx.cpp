#include "client/report/programme_xlsx.h"

#include <algorithm>
#include <functional>
#include <set>

#include "client/report/xlsx_book.h"
#include "shared/model/fields.h"

namespace ergon::client {
namespace {

using model::Money;

// The programme sheet's columns; one money column per funding source follows kFirstSource.
enum Column : lxw_col_t {
  kNumber,
  kKa,
  kTitle,
  kTotal,
  kPaid,
  kAllocation,
  kContinuity,
  kArea,
  kPriority,
  kStatus,
  kState,
  kFlag,
  kFirstSource
};
constexpr const char* kHeaders[] = {"α/α",
                                    "Κ.Α.",
                                    "Τίτλος έργου / μελέτης",
                                    "Συνολικός προϋπολογισμός",
                                    "Πληρωμές έως 31/12",
                                    "Πίστωση έτους",
                                    "Νέο / Συνεχιζόμενο",
                                    "Δημοτική Ενότητα / Κοινότητα",
                                    "Προτεραιότητα",
                                    "Κατάσταση",
                                    "Απόφαση",
                                    "⚑"};
constexpr lxw_row_t kHeaderRow = 3;

// A total row's formula for a money column.
using Formula = std::function<std::string(lxw_col_t)>;

// The rows first..last of a group (every row of the table counts).
Formula sum_rows(lxw_row_t first, lxw_row_t last) {
  return [first, last](lxw_col_t col) {
    return "=SUM(" + cell_name(first, col) + ":" + cell_name(last, col) + ")";
  };
}

// The sum of total rows already written.
Formula sum_of(std::vector<lxw_row_t> rows) {
  return [rows = std::move(rows)](lxw_col_t col) {
    std::string f;
    for (auto r : rows) f += (f.empty() ? "=" : "+") + cell_name(r, col);
    return f.empty() ? std::string("=0") : f;
  };
}

// Writes the programme sheet top to bottom, keeping the cells that totals add up.
class ProgrammeSheet {
 public:
  ProgrammeSheet(Workbook& book, lxw_worksheet* sheet, const ProgrammeReport& report,
                 const model::ReferenceData& ref)
      : f_(book.formats()), sheet_(sheet), report_(report), ref_(ref) {
    // Every source with an envelope or a funding line in a listed row, in code order.
    std::set<std::string> codes;
    for (const auto& use : report.sources) codes.insert(use.source);
    for (const auto& d : report.directorates)
      for (const auto& g : d.groups)
        for (const auto& r : g.rows)
          for (const auto& line : r.proposal->funding) codes.insert(line.source);
    sources_.assign(codes.begin(), codes.end());
  }

  void write() {
    heading();
    std::vector<lxw_row_t> directorate_rows;
    for (const auto& d : report_.directorates) directorate_rows.push_back(directorate(d));
    lxw_row_t at = row_++;
    total_row(at, "ΓΕΝΙΚΟ ΣΥΝΟΛΟ (" + std::to_string(report_.counted_rows) + " έργα και μελέτες)",
              sum_of(directorate_rows),
              {report_.total_budget, report_.paid_to_date, report_.allocation},
              source_totals_all());
    ++row_;
    not_included();
    sources_table();
    footer();
  }

 private:
  struct Totals {
    Money total, paid, allocation;
  };

  void heading() {
    if (!report_.municipality.empty())
      worksheet_write_string(sheet_, 0, 0, report_.municipality.c_str(), f_.bold);
    worksheet_write_string(sheet_, 1, 0, report_title(report_).c_str(), f_.title);
    worksheet_write_string(sheet_, 2, 0, stage_lines(report_.stage).front().c_str(), nullptr);
    lxw_col_t col = 0;
    for (const char* h : kHeaders) worksheet_write_string(sheet_, kHeaderRow, col++, h, f_.header);
    for (const auto& s : sources_)
      worksheet_write_string(sheet_, kHeaderRow, col++, s.c_str(), f_.header);
    worksheet_set_column(sheet_, kNumber, kNumber, 5, nullptr);
    worksheet_set_column(sheet_, kKa, kKa, 12, nullptr);
    worksheet_set_column(sheet_, kTitle, kTitle, 60, f_.wrap);
    worksheet_set_column(sheet_, kTotal, kAllocation, 17, nullptr);  // kPaid between them
    worksheet_set_column(sheet_, kContinuity, kState, 14, f_.wrap);
    worksheet_set_column(sheet_, kArea, kArea, 24, f_.wrap);
    worksheet_set_column(sheet_, kFirstSource,
                         static_cast<lxw_col_t>(kFirstSource + sources_.size()), 14, nullptr);
    worksheet_freeze_panes(sheet_, kHeaderRow + 1, kTotal);
    worksheet_repeat_rows(sheet_, kHeaderRow, kHeaderRow);
    worksheet_set_landscape(sheet_);
    worksheet_set_paper(sheet_, 9);  // A4
    worksheet_fit_to_pages(sheet_, 1, 0);
    row_ = kHeaderRow + 1;
  }

  lxw_row_t directorate(const ReportDirectorate& d) {
    worksheet_write_string(sheet_, row_++, 0, (d.name + " (" + d.code + ")").c_str(), f_.bold);
    std::vector<lxw_row_t> group_rows;
    for (const auto& g : d.groups) {
      std::string category(category_el(g.category));
      worksheet_write_string(sheet_, row_++, kKa, category.c_str(), f_.bold);
      lxw_row_t first = row_;
      for (const auto& r : g.rows) proposal_row(r);
      lxw_row_t at = row_++;
      group_rows.push_back(at);
      total_row(at, "Σύνολο " + category + " – " + d.name, sum_rows(first, at - 1),
                {g.total_budget, g.paid_to_date, g.allocation}, source_totals(g));
    }
    lxw_row_t at = row_++;
    total_row(at, "Σύνολο Διεύθυνσης: " + d.name, sum_of(group_rows),
              {d.total_budget, d.paid_to_date, d.allocation}, source_totals(d));
    return at;
  }

  // The rows the table leaves out (--all), after its total: not summed, each with its reason.
  void not_included() {
    if (report_.not_included.empty()) return;
    std::string heading = std::string(kNotIncludedTitle) + " (εκτός συνόλων)";
    worksheet_write_string(sheet_, row_++, kTitle, heading.c_str(), f_.bold);
    for (const auto& r : report_.not_included) proposal_row(r, true);
    ++row_;
  }

  void proposal_row(const ReportRow& r, bool with_reason = false) {
    const auto& p = *r.proposal;
    auto text = [&](Column c, const std::string& s) {
      worksheet_write_string(sheet_, row_, c, s.c_str(), nullptr);
    };
    worksheet_write_number(sheet_, row_, kNumber, r.number, nullptr);
    text(kKa, p.ka_code ? p.ka_code->canonical() : "");
    worksheet_write_string(sheet_, row_, kTitle, p.title.c_str(), f_.wrap);
    worksheet_write_number(sheet_, row_, kTotal, euros(p.total_budget), f_.money);
    worksheet_write_number(sheet_, row_, kPaid, euros(p.paid_to_date), f_.money);
    worksheet_write_number(sheet_, row_, kAllocation, euros(p.allocation), f_.money);
    text(kContinuity, std::string(continuity_el(p.new_or_continuing)));
    text(kArea, area_name(ref_, p.area));
    text(kPriority, std::string(model::to_string(p.priority)));
    text(kStatus, std::string(work_status_el(p.status)));
    std::string decision(state_el(p.state));
    if (with_reason && !p.decision_reason.empty()) decision += ": " + p.decision_reason;
    text(kState, decision);
    if (r.is_flagged) text(kFlag, "⚑");
    for (const auto& line : p.funding)
      worksheet_write_number(sheet_, row_, source_column(line.source), euros(line.amount),
                             f_.money);
    ++row_;
  }

  // A formula for each money column of a total row: `formula(col)` → text.
  void total_row(lxw_row_t at, const std::string& label, const Formula& formula, Totals totals,
                 const std::vector<Money>& by_source) {
    worksheet_write_string(sheet_, at, kTitle, label.c_str(), f_.bold);
    worksheet_write_formula_num(sheet_, at, kTotal, formula(kTotal).c_str(), f_.bold_money,
                                euros(totals.total));
    worksheet_write_formula_num(sheet_, at, kPaid, formula(kPaid).c_str(), f_.bold_money,
                                euros(totals.paid));
    worksheet_write_formula_num(sheet_, at, kAllocation, formula(kAllocation).c_str(),
                                f_.bold_money, euros(totals.allocation));
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      auto col = static_cast<lxw_col_t>(kFirstSource + i);
      worksheet_write_formula_num(sheet_, at, col, formula(col).c_str(), f_.bold_money,
                                  euros(by_source[i]));
    }
  }

  lxw_col_t source_column(const std::string& source) const {
    auto it = std::find(sources_.begin(), sources_.end(), source);
    return static_cast<lxw_col_t>(kFirstSource + (it - sources_.begin()));
  }
  void add_counted(const ReportGroup& g, std::vector<Money>& by_source) const {
    for (const auto& r : g.rows)
      for (const auto& line : r.proposal->funding) {
        auto& sum = by_source[source_column(line.source) - kFirstSource];
        sum = sum.plus(line.amount).value_or(sum);
      }
  }
  std::vector<Money> source_totals(const ReportGroup& g) const {
    std::vector<Money> by_source(sources_.size());
    add_counted(g, by_source);
    return by_source;
  }
  std::vector<Money> source_totals(const ReportDirectorate& d) const {
    std::vector<Money> by_source(sources_.size());
    for (const auto& g : d.groups) add_counted(g, by_source);
    return by_source;
  }
  std::vector<Money> source_totals_all() const {
    std::vector<Money> by_source(sources_.size());
    for (const auto& d : report_.directorates)
      for (const auto& g : d.groups) add_counted(g, by_source);
    return by_source;
  }

  void sources_table();
  void footer();

  const Workbook::Formats& f_;
  lxw_worksheet* sheet_;
  const ProgrammeReport& report_;
  const model::ReferenceData& ref_;
  std::vector<std::string> sources_;
  lxw_row_t row_ = 0;
};

// Each source against its envelope; the remainder is a formula. A part of the programme (one
// directorate or area) shows what it requests and is allocated, not the envelopes of the whole.
void ProgrammeSheet::sources_table() {
  worksheet_write_string(sheet_, row_++, kTitle, "Ανά πηγή χρηματοδότησης", f_.bold);
  const bool whole = !report_.is_part;
  std::vector<const char*> heads = {"Πηγή", "Ονομασία"};
  if (whole) heads.push_back("Φάκελος (διαθέσιμα)");
  heads.insert(heads.end(), {"Εγκεκριμένα", "Αιτούμενα"});
  if (whole) heads.push_back("Υπόλοιπο");
  lxw_col_t col = kKa;
  for (const char* h : heads) worksheet_write_string(sheet_, row_, col++, h, f_.header);
  ++row_;
  for (const auto& use : report_.sources) {
    const auto* s = ref_.funding_source(use.source);
    worksheet_write_string(sheet_, row_, kKa, use.source.c_str(), nullptr);
    worksheet_write_string(sheet_, row_, kTitle, s ? s->name_el.c_str() : "", f_.wrap);
    auto at = static_cast<lxw_col_t>(kTotal);
    lxw_col_t envelope_col = at;
    if (whole) {
      if (use.envelope)
        worksheet_write_number(sheet_, row_, at, euros(*use.envelope), f_.money);
      else
        worksheet_write_string(sheet_, row_, at, "χωρίς φάκελο", nullptr);
      ++at;
    }
    lxw_col_t allocated_col = at;
    worksheet_write_number(sheet_, row_, at++, euros(use.allocated), f_.money);
    worksheet_write_number(sheet_, row_, at++, euros(use.requested), f_.money);
    if (whole && use.remaining)
      worksheet_write_formula_num(
          sheet_, row_, at,
          ("=" + cell_name(row_, envelope_col) + "-" + cell_name(row_, allocated_col)).c_str(),
          f_.money, euros(*use.remaining));
    if (whole && use.is_over()) worksheet_write_string(sheet_, row_, at + 1, "⚑ υπέρβαση", f_.bold);
    ++row_;
  }
  ++row_;
}

void ProgrammeSheet::footer() {
  for (const auto& f : report_.flags) {
    std::string line =
        "⚑ " + f.id + ": " + f.message + (f.is_acknowledged ? " (έγινε αποδεκτή)" : " (ανοικτή)");
    worksheet_write_string(sheet_, row_++, kTitle, line.c_str(), nullptr);
  }
  ++row_;
  for (const auto& line : stage_lines(report_.stage))
    worksheet_write_string(sheet_, row_++, kTitle, line.c_str(), nullptr);
}

constexpr std::string_view kMoneyFields[] = {"total_budget", "paid_to_date", "allocation"};

}  // namespace

core::Status write_programme_xlsx(const ProgrammeReport& report, const model::ReferenceData& ref,
                                  const std::filesystem::path& path) {
  Workbook book(path);
  ERGON_TRY(book.opened());
  ProgrammeSheet(book, book.add_sheet("Πρόγραμμα " + std::to_string(report.year)), report, ref)
      .write();
  return book.commit();
}

core::Status write_table_xlsx(const std::vector<std::string>& header,
                              const std::vector<std::vector<std::string>>& rows,
                              const std::filesystem::path& path) {
  Workbook book(path);
  ERGON_TRY(book.opened());
  auto* sheet = book.add_sheet("Προτάσεις");
  const auto& f = book.formats();
  std::set<std::size_t> money;
  for (std::size_t c = 0; c < header.size(); ++c) {
    worksheet_write_string(sheet, 0, static_cast<lxw_col_t>(c), header[c].c_str(), f.header);
    for (auto name : kMoneyFields)
      if (header[c] == name) money.insert(c);
  }
  worksheet_freeze_panes(sheet, 1, 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      auto at_row = static_cast<lxw_row_t>(r + 1);
      auto at_col = static_cast<lxw_col_t>(c);
      const auto& cell = rows[r][c];
      if (money.count(c) != 0)
        if (auto amount = Money::parse(cell)) {
          worksheet_write_number(sheet, at_row, at_col, euros(*amount), f.money);
          continue;
        }
      if (!cell.empty()) worksheet_write_string(sheet, at_row, at_col, cell.c_str(), nullptr);
    }
  }
  return book.commit();
}

}  // namespace ergon::client

// The official table as a printable page: one self-contained HTML file (inline CSS and SVG, no
// script, no network) laid out for A4 landscape. Titles wrap and are never cut; the header row
// repeats on every printed page.

#include <algorithm>

#include "client/report/programme_report.h"

namespace ergon::client {
namespace {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr std::string_view kStyle = R"(<style>
@page { size: A4 landscape; margin: 10mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 7.5pt;
       color: #000; margin: 0; }
h1 { font-size: 13pt; margin: 0 0 2mm; }
h2 { font-size: 10pt; margin: 5mm 0 2mm; page-break-after: avoid; }
p.stage { margin: 0 0 3mm; font-size: 9pt; }
p.municipality { margin: 0 0 1mm; font-size: 10pt; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
th, td { border: 0.4pt solid #777; padding: 1.2mm 1.2mm; vertical-align: top; }
th { background: #e4e4ec; font-weight: bold; text-align: center; }
tr { page-break-inside: avoid; }
td.n { text-align: right; white-space: nowrap; }
td.c { text-align: center; }
td.ka { white-space: nowrap; }
td.title { overflow-wrap: anywhere; }
tr.directorate td { background: #d9dde8; font-weight: bold; font-size: 8.5pt; }
tr.group td { background: #eef0f5; font-weight: bold; }
tr.subtotal td, tr.total td { font-weight: bold; }
tr.total td { background: #d9dde8; font-size: 8.5pt; }
tr.flagged td { background: #fbe3e3; }
tr.out td { color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 3mm; }
figure { margin: 0; page-break-inside: avoid; }
figcaption { font-size: 7pt; }
footer { margin-top: 5mm; font-size: 8pt; border-top: 0.6pt solid #000; padding-top: 2mm; }
</style>)";

// Column widths on A4 landscape: the title takes what the figures leave.
constexpr std::string_view kHeader =
    "<colgroup><col style=\"width:3%\"><col style=\"width:7%\"><col style=\"width:23%\">"
    "<col style=\"width:8.5%\"><col style=\"width:8%\"><col style=\"width:8%\">"
    "<col style=\"width:11%\"><col style=\"width:5%\"><col style=\"width:9%\">"
    "<col style=\"width:3%\"><col style=\"width:7%\"><col style=\"width:7.5%\"></colgroup>\n"
    "<thead><tr><th>α/α</th><th>Κ.Α.</th><th>Τίτλος έργου / μελέτης</th>"
    "<th>Συνολικός προϋπολογισμός</th><th>Πληρωμές έως 31/12</th><th>Πίστωση έτους</th>"
    "<th>Πηγές χρηματοδότησης</th><th>Νέο / Συνεχ.</th><th>Δημοτική Ενότητα / Κοινότητα</th>"
    "<th>Προτ.</th><th>Κατάσταση</th><th>Απόφαση</th></tr></thead>\n";

constexpr int kColumns = 12;

std::string cell(std::string_view text, std::string_view css = "") {
  return (css.empty() ? "<td>" : "<td class=\"" + std::string(css) + "\">") + escape(text) +
         "</td>";
}

std::string row_html(const ReportRow& row, const model::ReferenceData& ref, bool is_left_out) {
  const auto& p = *row.proposal;
  std::string css = row.is_flagged ? "flagged" : "";
  if (is_left_out) css += css.empty() ? "out" : " out";
  std::string number = std::to_string(row.number) + (row.is_flagged ? " ⚑" : "");
  std::string decision(state_el(p.state));
  if (is_left_out && !p.decision_reason.empty()) decision += ": " + p.decision_reason;
  return (css.empty() ? "<tr>" : "<tr class=\"" + css + "\">") + cell(number, "n") +
         cell(p.ka_code ? p.ka_code->canonical() : "—", "ka") + cell(p.title, "title") +
         cell(p.total_budget.greek_euro(), "n") + cell(p.paid_to_date.greek_euro(), "n") +
         cell(p.allocation.greek_euro(), "n") + cell(funding_text(p)) +
         cell(continuity_el(p.new_or_continuing)) + cell(area_name(ref, p.area)) +
         cell(model::to_string(p.priority), "c") + cell(work_status_el(p.status)) + cell(decision) +
         "</tr>\n";
}

std::string total_html(std::string_view css, const std::string& label, model::Money total,
                       model::Money paid, model::Money allocation) {
  return "<tr class=\"" + std::string(css) + "\"><td colspan=\"3\">" + escape(label) + "</td>" +
         cell(total.greek_euro(), "n") + cell(paid.greek_euro(), "n") +
         cell(allocation.greek_euro(), "n") + "<td colspan=\"" + std::to_string(kColumns - 6) +
         "\"></td></tr>\n";
}

std::string table_html(const ProgrammeReport& report, const model::ReferenceData& ref) {
  std::string out = "<table class=\"programme\">\n" + std::string(kHeader) + "<tbody>\n";
  const std::string span = "<td colspan=\"" + std::to_string(kColumns) + "\">";
  for (const auto& d : report.directorates) {
    out +=
        "<tr class=\"directorate\">" + span + escape(d.name + " (" + d.code + ")") + "</td></tr>\n";
    for (const auto& g : d.groups) {
      std::string category(category_el(g.category));
      out += "<tr class=\"group\">" + span + escape(category) + "</td></tr>\n";
      for (const auto& row : g.rows) out += row_html(row, ref, false);
      out += total_html("subtotal", "Σύνολο " + category + " – " + d.name, g.total_budget,
                        g.paid_to_date, g.allocation);
    }
    out += total_html("subtotal", "Σύνολο Διεύθυνσης: " + d.name, d.total_budget, d.paid_to_date,
                      d.allocation);
  }
  out += total_html("total",
                    "ΓΕΝΙΚΟ ΣΥΝΟΛΟ (" + std::to_string(report.counted_rows) + " έργα και μελέτες)",
                    report.total_budget, report.paid_to_date, report.allocation);
  out += "</tbody></table>\n";
  if (report.not_included.empty()) return out;
  out += "<h2>" + escape(kNotIncludedTitle) + " (εκτός συνόλων)</h2>\n<table class=\"others\">\n" +
         std::string(kHeader) + "<tbody>\n";
  for (const auto& row : report.not_included) out += row_html(row, ref, true);
  return out + "</tbody></table>\n";
}

std::string sources_html(const ProgrammeReport& report, const model::ReferenceData& ref) {
  // A part of the programme (one directorate or area) is not measured against the envelopes.
  std::string out =
      "<h2>Ανά πηγή χρηματοδότησης</h2>\n<table class=\"sources\"><thead><tr>"
      "<th>Πηγή</th><th>Ονομασία</th>" +
      std::string(report.is_part ? "" : "<th>Φάκελος (διαθέσιμα)</th>") +
      "<th>Εγκεκριμένα</th><th>Αιτούμενα</th>" +
      std::string(report.is_part ? "" : "<th>Υπόλοιπο</th>") + "</tr></thead><tbody>\n";
  for (const auto& use : report.sources) {
    const auto* s = ref.funding_source(use.source);
    out += std::string(use.is_over() ? "<tr class=\"flagged\">" : "<tr>") + cell(use.source) +
           cell(s ? s->name_el : "");
    if (!report.is_part)
      out += cell(use.envelope ? use.envelope->greek_euro() : "χωρίς φάκελο", "n");
    out += cell(use.allocated.greek_euro(), "n") + cell(use.requested.greek_euro(), "n");
    if (!report.is_part)
      out += cell(use.remaining ? (use.is_over() ? "⚑ " : "") + use.remaining->greek_euro() : "—",
                  "n");
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

// One source's bars: envelope, requested and allocated on one scale, the envelope marked by a
// line across all three. Pixel geometry only: the amounts printed beside the bars are exact.
std::string chart_svg(const merge::EnvelopeUse& use) {
  constexpr double kBar = 150;
  std::int64_t largest = std::max({use.envelope ? use.envelope->cents() : 0, use.requested.cents(),
                                   use.allocated.cents(), std::int64_t{1}});
  auto width = [&](std::int64_t cents) {
    return static_cast<int>(kBar * static_cast<double>(cents) / static_cast<double>(largest));
  };
  std::string out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"330\" height=\"64\" "
      "font-size=\"8\" font-family=\"DejaVu Sans, sans-serif\">";
  struct Bar {
    const char* label;
    std::optional<model::Money> amount;
    const char* colour;
  };
  const Bar bars[] = {{"Φάκελος", use.envelope, "#8a9bb8"},
                      {"Αιτούμενα", use.requested, "#c9b26b"},
                      {"Εγκεκριμένα", use.allocated, use.is_over() ? "#c0392b" : "#4f8a5b"}};
  int y = 4;
  for (const auto& bar : bars) {
    out += "<text x=\"0\" y=\"" + std::to_string(y + 9) + "\">" + bar.label + "</text>";
    if (bar.amount)
      out += "<rect x=\"60\" y=\"" + std::to_string(y) + "\" width=\"" +
             std::to_string(width(bar.amount->cents())) + "\" height=\"12\" fill=\"" + bar.colour +
             "\"/>";
    out += "<text x=\"" + std::to_string(static_cast<int>(kBar) + 64) + "\" y=\"" +
           std::to_string(y + 9) + "\">" +
           escape(bar.amount ? bar.amount->greek_euro() : "χωρίς φάκελο") + "</text>";
    y += 19;
  }
  if (use.envelope) {
    auto x = std::to_string(60 + width(use.envelope->cents()));
    out += "<line x1=\"" + x + "\" y1=\"1\" x2=\"" + x +
           "\" y2=\"61\" stroke=\"#000\" stroke-dasharray=\"2,2\"/>";
  }
  return out + "</svg>";
}

std::string charts_html(const ProgrammeReport& report, const model::ReferenceData& ref) {
  std::string out = "<h2>Πίστωση ανά πηγή έναντι του φακέλου της</h2>\n<div class=\"charts\">\n";
  for (const auto& use : report.sources) {
    const auto* s = ref.funding_source(use.source);
    out += "<figure>" + chart_svg(use) + "<figcaption>" +
           escape(use.source + (s ? " – " + s->name_el : "")) + "</figcaption></figure>\n";
  }
  return out + "</div>\n";
}

std::string flags_and_footer(const ProgrammeReport& report) {
  std::string out;
  if (!report.flags.empty()) {
    out += "<h2>⚑ Σημάνσεις ελέγχου</h2>\n<ul>\n";
    for (const auto& f : report.flags)
      out += "<li>" + escape(f.id + ": " + f.message) +
             (f.is_acknowledged ? " (έγινε αποδεκτή)" : " (ανοικτή)") + "</li>\n";
    out += "</ul>\n";
  }
  out += "<footer>\n";
  for (const auto& line : stage_lines(report.stage)) out += "<div>" + escape(line) + "</div>\n";
  return out + "</footer>\n";
}

}  // namespace

std::string render_programme_html(const ProgrammeReport& report, const model::ReferenceData& ref) {
  std::string title = report_title(report);
  std::string out = "<!DOCTYPE html>\n<html lang=\"el\">\n<head>\n<meta charset=\"utf-8\">\n" +
                    std::string(kReportSecurityPolicy) + "<title>" + escape(title) + "</title>\n" +
                    std::string(kStyle) + "\n</head>\n<body>\n";
  if (!report.municipality.empty())
    out += "<p class=\"municipality\">" + escape(report.municipality) + "</p>\n";
  out += "<h1>" + escape(title) + "</h1>\n<p class=\"stage\">" +
         escape(stage_lines(report.stage).front()) + "</p>\n";
  out += table_html(report, ref) + sources_html(report, ref) +
         (report.is_part ? "" : charts_html(report, ref)) + flags_and_footer(report);
  return out + "</body>\n</html>\n";
}

}  // namespace ergon::client

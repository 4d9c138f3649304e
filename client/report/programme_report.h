#pragma once
// The official table's content, computed once and then rendered as text, HTML (and PDF from
// it) or an Excel workbook: the proposals grouped by directorate and category in priority
// order, numbered, with subtotals per group and directorate, the totals per funding source
// against their envelopes, the flags of the year and the stage the programme stands at.
// Pure functions of their inputs; thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "shared/merge/flags.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"

namespace ergon::client {

/// A cross-row flag as the report lists it: its id, what is wrong, whether it was acknowledged.
struct ReportFlag {
  std::string id, message;
  std::vector<std::string> proposals;  // ids
  bool is_acknowledged = false;
};

/// Where the programme printed stands: a frozen stage with its decision and checkpoint, a
/// moment of the log, or the client's current view.
struct ReportStage {
  std::string name;   // draft-1, approved, amendment-1 …; empty: not a frozen stage
  std::string as_of;  // the moment asked for, when not a stage
  std::string body, number, date, ada;  // the decision that moved the programme there
  // The log's last row included and its chain head, EPOCH.SEQ:HEX as `ergond audit verify
  // --head` takes it (or EPOCH.SEQ alone when the hash is not known); empty: unknown.
  std::string checkpoint;
};

struct ReportOptions {
  int year = 0;
  // From draft-1 on the table is the programme: the included proposals only. Before it, the
  // proposals' table: every proposal still in the running (draft, submitted, included).
  bool is_programme = false;
  bool list_not_included = false;  // --all: a second table of those the first leaves out
  std::string directorate, area;   // only these rows (empty: all); a part has no envelopes
  std::string municipality;        // the header's Δήμος
  std::vector<ReportFlag> flags;   // flagged rows are marked ⚑ and the flags listed
  std::map<std::string, model::Money> envelopes;  // by source code
  ReportStage stage;
};

struct ReportRow {
  int number = 0;  // α/α, running through its table
  const model::Proposal* proposal = nullptr;
  bool is_flagged = false;
};

struct ReportGroup {
  model::Category category = model::Category::kWork;
  std::vector<ReportRow> rows;  // priority, then ΚΑ code, then title
  model::Money total_budget, paid_to_date, allocation;
};

struct ReportDirectorate {
  std::string code, name;
  std::vector<ReportGroup> groups;  // category order
  model::Money total_budget, paid_to_date, allocation;
};

struct ProgrammeReport {
  int year = 0;
  std::string municipality;
  bool is_programme = false;  // the included proposals only (from draft-1 on)
  bool is_part = false;       // filtered to a directorate or area: no envelope figures
  std::vector<ReportDirectorate> directorates;  // code order
  model::Money total_budget, paid_to_date, allocation;
  int counted_rows = 0;
  // The rows the table leaves out, with their decision and reason (--all), in the same order.
  std::vector<ReportRow> not_included;
  // Per funding source, one definition everywhere (merge::envelope_uses): requested is the
  // funding of the submitted and included proposals, allocated that of the included ones.
  std::vector<merge::EnvelopeUse> sources;
  std::vector<ReportFlag> flags;
  ReportStage stage;
};

/// The title the table prints: `ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ 2024`, or for the proposals' table before
/// the first draft `ΠΡΟΤΑΣΕΙΣ ΓΙΑ ΤΟ ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ 2024`.
std::string report_title(const ProgrammeReport& report);
/// The heading of the second table (--all).
inline constexpr std::string_view kNotIncludedTitle = "Προτάσεις που δεν εντάχθηκαν";
/// Whether a frozen stage's programme is the programme proper (draft-1 and every later one).
bool is_programme_stage(std::string_view stage);

/// Groups, numbers and sums `proposals` of `options.year`. Sums saturate at Money's largest
/// amount rather than wrap.
ProgrammeReport build_report(const std::vector<model::Proposal>& proposals,
                             const model::ReferenceData& ref, const ReportOptions& options);

// Greek words of the printed table.
std::string_view category_el(model::Category c);       // ΕΡΓΑ, ΜΕΛΕΤΕΣ …
std::string_view continuity_el(model::Continuity c);   // Νέο, Συνεχιζόμενο
std::string_view state_el(model::State s);             // Σχέδιο, Εντάχθηκε …
std::string_view work_status_el(model::WorkStatus s);  // υπό ωρίμανση …
/// `Δημοτικό Συμβούλιο (approved)`: the body a stage belongs to, with the stage's own name.
std::string stage_el(std::string_view stage);
/// The footer's lines: the stage, its decision and the checkpoint, in Greek.
std::vector<std::string> stage_lines(const ReportStage& stage);

/// The funding lines of a row as one text: `AT06 120.000,00 € · 1005 30.000,00 €`.
std::string funding_text(const model::Proposal& p);
/// The name of a reference code, or the code itself when the list does not have it.
std::string area_name(const model::ReferenceData& ref, const std::string& code);

/// A fixed-width terminal table (UTF-8, padded by characters, not bytes); titles wrap.
std::string render_programme_text(const ProgrammeReport& report, const model::ReferenceData& ref);
/// A self-contained HTML page (inline CSS and SVG, no script) that prints on A4 landscape.
std::string render_programme_html(const ProgrammeReport& report, const model::ReferenceData& ref);

/// The page's Content-Security-Policy, as a <meta> of its head: nothing but its own styles runs
/// or loads, so no script runs when Chromium prints it, whatever a title or remark holds.
/// (Chromium's own switch against JavaScript stops its new headless mode from printing.)
inline constexpr std::string_view kReportSecurityPolicy =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
    "'unsafe-inline'; img-src data:\">\n";

/// Pads or cuts `text` to `width` characters; numbers are right-aligned when `right` is set.
std::string fit(std::string_view text, std::size_t width, bool right = false);

}  // namespace ergon::client

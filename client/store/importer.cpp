#include "client/store/importer.h"

#include <algorithm>
#include <sstream>

#include "shared/model/csv.h"
#include "shared/model/fields.h"
#include "shared/model/text.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::size_t kProgressEvery = 500;

// "line 7, column total_budget: ..." from an error whose message starts with "field: ".
core::Error at_row(std::size_t line, const core::Error& e) {
  auto colon = e.message.find(": ");
  if (colon != std::string::npos && model::find_field(e.message.substr(0, colon)))
    return {e.code, "line " + std::to_string(line) + ", column " + e.message};
  return {e.code, "line " + std::to_string(line) + ": " + e.message};
}

}  // namespace

core::Result<ImportReport> import_csv(LocalStore& store, std::string_view text,
                                      std::optional<int> year) {
  std::istringstream in{std::string(text)};
  return import_csv(store, in, year);
}

namespace {

// The header names fields only: anything else is a typo the user must see.
core::Status check_columns(const std::vector<std::string>& columns) {
  for (const auto& name : columns) {
    if (model::find_field(name)) continue;
    std::string names;
    for (const auto& f : model::all_fields())
      names += (names.empty() ? "" : ", ") + std::string(f.name);
    std::string message = "line 1: column '" + name + "' is not a field; the columns are ";
    message += names;
    return fail(ErrorCode::kInvalidArgument, message);
  }
  return {};
}

// One data row, its cells parsed (so an error names its column).
struct ImportRow {
  model::FieldValues values;
  std::optional<core::ProposalId> id;
  std::optional<int> year;
};

core::Result<ImportRow> parse_row(const model::CsvRow& row, const std::vector<std::string>& columns,
                                  char delimiter, std::optional<int> year) {
  if (row.cells.size() != columns.size())
    return fail(ErrorCode::kInvalidArgument,
                "line " + std::to_string(row.line) + ": has " + std::to_string(row.cells.size()) +
                    " cells but the header has " + std::to_string(columns.size()) +
                    "; check the separator '" + std::string(1, delimiter) + "' and quotes");
  ImportRow parsed{{}, std::nullopt, year};
  for (std::size_t i = 0; i < row.cells.size(); ++i) {
    const auto& name = columns[i];
    const auto& cell = row.cells[i];
    // The life state is not imported: new rows start as drafts, decisions come from planning.
    if (name == "state" || name == "decision_reason") continue;
    bool is_key = name == "id" || name == "year";
    if (is_key && model::trim(cell).empty()) continue;
    model::Proposal probe;
    if (name != "funding")
      if (auto ok = model::set_field(probe, name, cell); !ok)
        return fail(at_row(row.line, ok.error()));
    if (name == "id") parsed.id = probe.id;
    if (name == "year") parsed.year = probe.year;
    if (!is_key) parsed.values[name] = cell;
  }
  return parsed;
}

// The proposal an imported row updates: by id, else by ΚΑ code or title (EditBatch::match).
core::Result<std::optional<core::ProposalId>> existing_for(EditBatch& batch, const ImportRow& row,
                                                           int year, const DeviceInfo& device) {
  if (row.id) {
    if (batch.get(*row.id)) return std::optional<core::ProposalId>(*row.id);
    return std::optional<core::ProposalId>{};
  }
  model::Proposal probe;
  for (auto field : {"ka_code", "title", "directorate"})
    if (auto it = row.values.find(field); it != row.values.end())
      (void)model::set_field(probe, field, it->second);
  if (probe.directorate.empty()) probe.directorate = device.directorate;
  return batch.match(year, probe.ka_code ? probe.ka_code->canonical() : "", probe.directorate,
                     probe.title);
}

core::Status apply_row(EditBatch& batch, const ImportRow& row, std::size_t line,
                       const DeviceInfo& device, ImportReport& report) {
  int target_year = row.year.value_or(device.year);
  auto existing = existing_for(batch, row, target_year, device);
  if (!existing) return fail(existing.error());
  if (*existing) {
    auto edited = batch.edit(**existing, row.values);
    if (!edited) return fail(at_row(line, edited.error()));
    if (edited->queued_seqs.empty()) {
      ++report.unchanged;
    } else {
      ++report.updated;
      report.changes += edited->queued_seqs.size();
    }
  } else {
    auto created = batch.create(row.values, target_year, row.id);
    if (!created) return fail(at_row(line, created.error()));
    ++report.created;
    ++report.changes;
  }
  ++report.rows;
  return {};
}

}  // namespace

core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in, std::optional<int> year,
                                      ImportProgress progress) {
  model::CsvReader reader(in);
  auto header = reader.header();
  if (!header) return fail(header.error());
  const std::vector<std::string> columns = std::move(*header);
  ERGON_TRY(check_columns(columns));
  ImportReport report;
  for (const auto& name : columns)
    if (name == "state" || name == "decision_reason") report.ignored_columns.push_back(name);
  auto batch = store.begin_edits();
  if (!batch) return fail(batch.error());
  for (;;) {
    auto next = reader.next();
    if (!next) return fail(next.error());
    if (!*next) break;
    auto row = parse_row(**next, columns, reader.delimiter(), year);
    if (!row) return fail(row.error());
    ERGON_TRY(apply_row(*batch, *row, (*next)->line, store.device(), report));
    if (progress.report && report.rows % kProgressEvery == 0)
      progress.report(report.rows, progress.total_bytes == 0
                                       ? 0
                                       : std::min<std::size_t>(100, reader.bytes_read() * 100 /
                                                                        progress.total_bytes));
  }
  ERGON_TRY(batch->commit());
  return report;
}

std::string export_csv(const std::vector<model::Proposal>& proposals) {
  constexpr char kSep = ';';
  std::string out = "\xEF\xBB\xBF";  // the UTF-8 BOM: a Greek Excel reads the file as UTF-8
  bool first = true;
  for (const auto& f : model::all_fields()) {
    if (f.name == "decision_reason") continue;
    out += (first ? "" : ";") + std::string(f.name);
    first = false;
  }
  out += "\r\n";
  for (const auto& p : proposals) {
    first = true;
    for (const auto& f : model::all_fields()) {
      if (f.name == "decision_reason") continue;
      if (!first) out += kSep;
      out += model::csv_cell(model::field_text(p, f.name, model::TextForm::kGreek), kSep);
      first = false;
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace ergon::client

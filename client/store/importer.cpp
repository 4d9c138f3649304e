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

core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in, std::optional<int> year,
                                      ImportProgress progress) {
  model::CsvReader reader(in);
  auto header = reader.header();
  if (!header) return fail(header.error());
  const std::vector<std::string> columns = std::move(*header);
  for (const auto& name : columns) {
    if (!model::find_field(name)) {
      std::string names;
      for (const auto& f : model::all_fields())
        names += (names.empty() ? "" : ", ") + std::string(f.name);
      return fail(
          ErrorCode::kInvalidArgument,
          "line 1: column '" + name + "' is not a field; the columns are " + std::string(names));
    }
  }

  ImportReport report;
  auto batch = store.begin_edits();
  if (!batch) return fail(batch.error());
  auto ok = [&]() -> core::Status {
    for (;;) {
      auto next = reader.next();
      if (!next) return fail(next.error());
      if (!*next) break;
      const auto& row = **next;
      if (row.cells.size() != columns.size())
        return fail(ErrorCode::kInvalidArgument,
                    "line " + std::to_string(row.line) + ": has " +
                        std::to_string(row.cells.size()) + " cells but the header has " +
                        std::to_string(columns.size()) + "; check the separator '" +
                        std::string(1, reader.delimiter()) + "' and quotes");
      model::FieldValues values;
      std::optional<core::ProposalId> id;
      std::optional<int> row_year = year;
      for (std::size_t i = 0; i < row.cells.size(); ++i) {
        const auto& name = columns[i];
        const auto& cell = row.cells[i];
        // The life state is not imported: new rows start as drafts, decisions come from planning.
        if (name == "state" || name == "decision_reason") continue;
        if (name == "id" || name == "year") {
          if (model::trim(cell).empty()) continue;
          model::Proposal probe;
          if (auto parsed = model::set_field(probe, name, cell); !parsed)
            return fail(at_row(row.line, parsed.error()));
          if (name == "id") id = probe.id;
          if (name == "year") row_year = probe.year;
          continue;
        }
        // Parse each cell now, so an error names its column.
        model::Proposal probe;
        if (name != "funding")
          if (auto parsed = model::set_field(probe, name, cell); !parsed)
            return fail(at_row(row.line, parsed.error()));
        values[name] = cell;
      }

      int target_year = row_year.value_or(store.device().year);
      std::optional<core::ProposalId> existing;
      if (id) {
        if (batch->get(*id)) existing = id;
      } else {
        model::Proposal probe;
        for (auto field : {"ka_code", "title", "directorate"})
          if (auto it = values.find(field); it != values.end())
            (void)model::set_field(probe, field, it->second);
        if (probe.directorate.empty()) probe.directorate = store.device().directorate;
        auto found = batch->match(target_year, probe.ka_code ? probe.ka_code->canonical() : "",
                                  probe.directorate, probe.title);
        if (!found) return fail(found.error());
        existing = *found;
      }

      if (existing) {
        auto edited = batch->edit(*existing, values);
        if (!edited) return fail(at_row(row.line, edited.error()));
        if (edited->queued_seqs.empty()) {
          ++report.unchanged;
        } else {
          ++report.updated;
          report.changes += edited->queued_seqs.size();
        }
      } else {
        auto created = batch->create(values, target_year, id);
        if (!created) return fail(at_row(row.line, created.error()));
        ++report.created;
        ++report.changes;
      }
      ++report.rows;
      if (progress.report && report.rows % kProgressEvery == 0)
        progress.report(report.rows, progress.total_bytes == 0
                                         ? 0
                                         : std::min<std::size_t>(100, reader.bytes_read() * 100 /
                                                                          progress.total_bytes));
    }
    return {};
  }();
  if (!ok) return fail(ok.error());
  ERGON_TRY(batch->commit());
  return report;
}

std::string export_csv(const std::vector<model::Proposal>& proposals) {
  constexpr char kSep = ';';
  std::string out;
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

#include "client/store/importer.h"

#include <algorithm>
#include <sstream>

#include "shared/core/numbers.h"
#include "shared/model/csv.h"
#include "shared/model/fields.h"
#include "shared/model/text.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::size_t kProgressEvery = 500;
constexpr std::string_view kRevisionColumn = "revision";

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
    if (model::find_field(name) || name == kRevisionColumn) continue;
    std::string names;
    for (const auto& f : model::all_fields())
      names += (names.empty() ? "" : ", ") + std::string(f.name);
    std::string message = "line 1: column '" + name + "' is not a field; the columns are ";
    message += names + " and revision (written by ergon export)";
    return fail(ErrorCode::kInvalidArgument, message);
  }
  return {};
}

// One data row, its cells parsed (so an error names its column).
struct ImportRow {
  model::FieldValues values;
  std::optional<core::ProposalId> id;
  std::optional<int> year;
  std::optional<ExportMark> mark;  // where the row stood when it was exported
  std::size_t line = 0;
};

core::Result<ImportRow> parse_row(const model::CsvRow& row, const std::vector<std::string>& columns,
                                  char delimiter, std::optional<int> year) {
  if (row.cells.size() != columns.size())
    return fail(ErrorCode::kInvalidArgument,
                "line " + std::to_string(row.line) + ": has " + std::to_string(row.cells.size()) +
                    " cells but the header has " + std::to_string(columns.size()) +
                    "; check the separator '" + std::string(1, delimiter) + "' and quotes");
  ImportRow parsed{{}, std::nullopt, year, std::nullopt, row.line};
  for (std::size_t i = 0; i < row.cells.size(); ++i) {
    const auto& name = columns[i];
    const auto& cell = row.cells[i];
    if (name == kRevisionColumn) {
      if (model::trim(cell).empty()) continue;
      auto mark = parse_mark(model::trim(cell));
      if (!mark)
        return fail(ErrorCode::kInvalidArgument, "line " + std::to_string(row.line) +
                                                     ", column revision: " + mark.error().message);
      parsed.mark = *mark;
      continue;
    }
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

// The fields whose Greek text differs between two states of a row.
std::vector<FieldChange> changed_fields(const model::Proposal& before,
                                        const model::Proposal& after) {
  std::vector<FieldChange> out;
  for (const auto& f : model::all_fields()) {
    auto was = model::field_text(before, f.name, model::TextForm::kGreek);
    auto now = model::field_text(after, f.name, model::TextForm::kGreek);
    if (was != now) out.push_back({std::string(f.name), was, now});
  }
  return out;
}

std::string revision_text(const changelog::Revision& r) {
  return std::to_string(r.epoch) + "." + std::to_string(r.seq);
}

// Why a row whose sheet values differ from `current` must not silently win: a group it changes
// moved on since the export. None when every changed group is as the export saw it.
core::Result<std::optional<std::string>> stale_reason(EditBatch& batch,
                                                      const model::Proposal& current,
                                                      const model::Proposal& sheet,
                                                      const ExportMark& mark,
                                                      const DeviceInfo& device) {
  bool is_exporting_home =
      !mark.device.empty() && device.device_id.hex().rfind(mark.device, 0) == 0;
  for (auto group : model::all_groups()) {
    if (model::group_values(current, group) == model::group_values(sheet, group)) continue;
    auto seen = batch.seen(current.id.hex(), group);
    if (!seen) return fail(seen.error());
    if (seen->server && mark.seen < *seen->server)
      return std::optional<std::string>(
          "the field group '" + std::string(group) + "' changed since the export (revision " +
          revision_text(*seen->server) + ", the sheet has " + revision_text(mark.seen) + ")");
    if (seen->pending_seq && (!is_exporting_home || *seen->pending_seq > mark.last_own_seq))
      return std::optional<std::string>("the field group '" + std::string(group) +
                                        "' was edited in this client since the export (change " +
                                        std::to_string(*seen->pending_seq) +
                                        ", not yet synchronised)");
  }
  return std::optional<std::string>{};
}

struct RowContext {
  EditBatch& batch;
  const DeviceInfo& device;
  const ImportOptions& options;
  ImportReport& report;
};

// An update of an existing row: stale rows are listed (and applied only with overwrite).
core::Status update_row(RowContext& ctx, const ImportRow& row, const core::ProposalId& id) {
  auto current = ctx.batch.get(id);
  if (!current) return fail(current.error());
  if (row.mark) {
    model::Proposal sheet = *current;
    if (model::apply_values(sheet, row.values)) {  // else: edit() names the bad cell below
      auto why = stale_reason(ctx.batch, *current, sheet, *row.mark, ctx.device);
      if (!why) return fail(why.error());
      if (*why) {
        if (!ctx.options.overwrite) {
          ctx.report.stale.push_back(
              {row.line, id.hex(), current->title, changed_fields(*current, sheet), **why});
          return {};
        }
        ++ctx.report.overwritten;
      }
    }
  }
  auto edited = ctx.batch.edit(id, row.values);
  if (!edited) return fail(at_row(row.line, edited.error()));
  if (edited->queued_seqs.empty()) {
    ++ctx.report.unchanged;
    return {};
  }
  ++ctx.report.updated;
  ctx.report.changes += edited->queued_seqs.size();
  if (ctx.options.on_change)
    ctx.options.on_change({row.line, id.hex(), edited->proposal.title, false,
                           changed_fields(*current, edited->proposal)});
  return {};
}

core::Status apply_row(RowContext& ctx, const ImportRow& row) {
  ++ctx.report.rows;
  int target_year = row.year.value_or(ctx.device.year);
  auto existing = existing_for(ctx.batch, row, target_year, ctx.device);
  if (!existing) return fail(existing.error());
  if (*existing) return update_row(ctx, row, **existing);
  auto created = ctx.batch.create(row.values, target_year, row.id);
  if (!created) return fail(at_row(row.line, created.error()));
  ++ctx.report.created;
  ++ctx.report.changes;
  if (ctx.options.on_change)
    ctx.options.on_change({row.line, created->id.hex(), created->title, true, {}});
  return {};
}

}  // namespace

core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in, std::optional<int> year,
                                      ImportProgress progress) {
  ImportOptions options;
  options.year = year;
  options.progress = progress;
  return import_csv(store, in, options);
}

core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in,
                                      const ImportOptions& options) {
  model::CsvReader reader(in);
  // The longest field is 2,000 characters of remarks (at most 4 bytes each in UTF-8).
  reader.limit(16 << 10, 256);
  auto header = reader.header();
  if (!header) return fail(header.error());
  const std::vector<std::string> columns = std::move(*header);
  ERGON_TRY(check_columns(columns));
  ImportReport report;
  report.is_dry_run = options.dry_run;
  for (const auto& name : columns)
    if (name == "state" || name == "decision_reason") report.ignored_columns.push_back(name);
  auto batch = store.begin_edits();
  if (!batch) return fail(batch.error());
  RowContext ctx{*batch, store.device(), options, report};
  const auto& progress = options.progress;
  for (;;) {
    auto next = reader.next();
    if (!next) return fail(next.error());
    if (!*next) break;
    auto row = parse_row(**next, columns, reader.delimiter(), options.year);
    if (!row) return fail(row.error());
    ERGON_TRY(apply_row(ctx, *row));
    if (progress.report && report.rows % kProgressEvery == 0)
      progress.report(report.rows, progress.total_bytes == 0
                                       ? 0
                                       : std::min<std::size_t>(100, reader.bytes_read() * 100 /
                                                                        progress.total_bytes));
  }
  if (!options.dry_run) ERGON_TRY(batch->commit());  // a dry run rolls back with the batch
  return report;
}

std::string mark_text(const ExportMark& mark) {
  return revision_text(mark.seen) + "@" + mark.device.substr(0, 8) + ":" +
         std::to_string(mark.last_own_seq);
}

core::Result<ExportMark> parse_mark(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text) +
                    "' is not a revision as 'ergon export' writes it (EPOCH.SEQ@DEVICE:SEQ, "
                    "like 1.45@3f9a0c12:7); leave the cell empty for a row made by hand");
  };
  auto at = text.find('@');
  auto dot = text.find('.');
  auto colon = text.find(':', at == std::string_view::npos ? 0 : at);
  if (at == std::string_view::npos || dot > at || colon == std::string_view::npos) return bad();
  auto epoch = core::parse_number<std::uint64_t>(text.substr(0, dot), "epoch");
  auto seq = core::parse_number<std::uint64_t>(text.substr(dot + 1, at - dot - 1), "seq");
  auto own = core::parse_number<std::uint64_t>(text.substr(colon + 1), "own seq");
  std::string device(text.substr(at + 1, colon - at - 1));
  bool is_hex =
      device.size() == 8 && device.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!epoch || !seq || !own || !is_hex) return bad();
  return ExportMark{{*epoch, *seq}, device, *own};
}

ExportTable export_table(const std::vector<model::Proposal>& proposals,
                         const std::map<std::string, ExportMark>& marks) {
  ExportTable table;
  for (const auto& f : model::all_fields())
    if (f.name != "decision_reason") table.header.emplace_back(f.name);
  if (!marks.empty()) table.header.emplace_back(kRevisionColumn);
  table.rows.reserve(proposals.size());
  for (const auto& p : proposals) {
    auto& row = table.rows.emplace_back();
    for (const auto& f : model::all_fields())
      if (f.name != "decision_reason")
        row.push_back(model::field_text(p, f.name, model::TextForm::kGreek));
    if (marks.empty()) continue;
    auto mark = marks.find(p.id.hex());
    row.push_back(mark == marks.end() ? std::string() : mark_text(mark->second));
  }
  return table;
}

std::string export_csv(const ExportTable& table) {
  constexpr char kSep = ';';
  std::string out = "\xEF\xBB\xBF";  // the UTF-8 BOM: a Greek Excel reads the file as UTF-8
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i)
      out += (i == 0 ? "" : ";") + model::csv_cell(cells[i], kSep);
    out += "\r\n";
  };
  line(table.header);
  for (const auto& row : table.rows) line(row);
  return out;
}

std::string export_csv(const std::vector<model::Proposal>& proposals) {
  return export_csv(export_table(proposals));
}

}  // namespace ergon::client

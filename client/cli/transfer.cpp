#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/programme_xlsx.h"
#include "client/report/proposal_json.h"
#include "client/store/importer.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

void show_progress(std::size_t rows, std::size_t percent) {
  std::cerr << "\rimporting: " << rows << " rows (" << percent << " % of the file)" << std::flush;
}

struct ImportArgs {
  std::string file;
  int year = 0;
  bool json = false, dry_run = false, overwrite = false;
};

// Lines printed for people: the first rows changed in full, then only their count.
constexpr std::size_t kRowsShown = 200;

std::string fields_text(const std::vector<FieldChange>& fields) {
  std::string out;
  for (const auto& f : fields)
    out += "\n      " + f.field + ": " + (f.before.empty() ? "—" : f.before) + " → " +
           (f.after.empty() ? "—" : f.after);
  return out;
}

void print_row(const RowChange& row, bool dry_run) {
  std::cout << "  line " << row.line << "  " << row.id.substr(0, 8) << "  " << row.title << ": "
            << (row.is_created ? (dry_run ? "would be created" : "created")
                               : (dry_run ? "would change" : "changed"))
            << fields_text(row.fields) << "\n";
}

json row_json(const RowChange& row) {
  json fields = json::array();
  for (const auto& f : row.fields)
    fields.push_back({{"field", f.field}, {"before", f.before}, {"after", f.after}});
  return {{"line", row.line},
          {"id", row.id},
          {"title", row.title},
          {"created", row.is_created},
          {"fields", fields}};
}

json report_json(const ImportReport& report, json rows) {
  json stale = json::array();
  for (const auto& s : report.stale) {
    json row = row_json({s.line, s.id, s.title, false, s.fields});
    row["why"] = s.why;
    stale.push_back(row);
  }
  return {{"rows", report.rows},
          {"created", report.created},
          {"updated", report.updated},
          {"unchanged", report.unchanged},
          {"changes", report.changes},
          {"ignored_columns", report.ignored_columns},
          {"dry_run", report.is_dry_run},
          {"changed", std::move(rows)},
          {"stale", stale},
          {"overwritten", report.overwritten}};
}

void print_summary(const ImportReport& report) {
  std::cout << (report.is_dry_run ? "dry run, nothing imported: " : "imported ") << report.rows
            << " rows: " << report.created << " created, " << report.updated << " updated, "
            << report.unchanged << " unchanged";
  if (!report.stale.empty()) std::cout << ", " << report.stale.size() << " stale (not applied)";
  if (report.overwritten > 0) std::cout << ", " << report.overwritten << " stale overwritten";
  std::cout << " (" << report.changes << " changes "
            << (report.is_dry_run ? "would wait" : "waiting") << " to be synchronised)\n";
  for (const auto& s : report.stale)
    std::cout << "  stale: line " << s.line << "  " << s.id.substr(0, 8) << "  " << s.title << ": "
              << s.why << fields_text(s.fields) << "\n";
  if (!report.stale.empty())
    std::cout << "The sheet was exported before these rows changed. Export again and redo the "
                 "edits, or import with --overwrite to let the sheet's values win.\n";
  for (const auto& column : report.ignored_columns)
    std::cout << "ignored the " << column
              << " column: new rows start as drafts, planning decides with 'ergon decide'\n";
}

core::Status run_import(const ImportArgs& args, const Context& ctx) {
  std::ifstream in(args.file, std::ios::binary);
  if (!in) return core::fail(core::ErrorCode::kNotFound, "cannot read " + args.file);
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  ImportOptions options;
  if (args.year != 0) options.year = args.year;
  options.dry_run = args.dry_run;
  options.overwrite = args.overwrite;
  std::error_code size_ec;
  auto size = std::filesystem::file_size(args.file, size_ec);
  options.progress = {&show_progress, size_ec ? 0 : static_cast<std::size_t>(size)};
  // The rows are told only once the import committed: a bad row later in the file applies
  // nothing, and then nothing may read as "created".
  // Only what is shown is kept (a large import holds one row at a time).
  json rows = json::array();
  std::vector<RowChange> shown;
  std::size_t changed = 0;
  options.on_change = [&](const RowChange& row) {
    ++changed;
    if (args.json)
      rows.push_back(row_json(row));
    else if (shown.size() < kRowsShown)
      shown.push_back(row);
  };
  auto report = import_csv(*store, in, options);
  if (report && report->rows >= 500) std::cerr << "\n";
  if (!report) return core::fail(report.error().code, args.file + ": " + report.error().message);
  if (args.json) {
    std::cout << report_json(*report, std::move(rows)).dump(2) << "\n";
    return {};
  }
  for (const auto& row : shown) print_row(row, args.dry_run);
  if (changed > kRowsShown)
    std::cout << "  … and " << changed - kRowsShown << " more rows (--json lists them all)\n";
  print_summary(*report);
  return {};
}

void add_import_command(CLI::App& app, Context& ctx) {
  auto import_opts = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "Import proposals from a spreadsheet's CSV export");
  cmd->add_option("FILE", import_opts->file, "the CSV file")->required();
  cmd->add_option("--year", import_opts->year, "programme year of rows without a year column");
  cmd->add_flag("--json", import_opts->json,
                "print the counts, the rows changed field by field and the stale rows as JSON");
  cmd->add_flag("--dry-run", import_opts->dry_run,
                "check the file and print what would change, field by field; change nothing");
  cmd->add_flag("--overwrite", import_opts->overwrite,
                "apply stale rows too: the sheet's values replace changes made since its export");
  cmd->footer(
      R"(Accepts ';' or ',' separators, Greek (1.234,56) or plain (1234.56) money, UTF-8 with or
without BOM. Rows without an id are matched by ΚΑ code (when unique in the year), else by
directorate and title, so importing the same file twice changes nothing. A bad row stops the
import with its line, column and reason, and nothing of the file is applied. Every import
prints the rows and fields it changed.
A sheet written by 'ergon export' carries each row's revision: a row changed in the app or on
the server since the export, whose values in the sheet differ, is stale and is not applied
(the import lists it) unless --overwrite.
Examples:
  ergon import data/sample-programme-2024.csv --year 2024
  ergon import programme-2024.csv --dry-run)");
  cmd->callback([&ctx, import_opts] {
    ctx.action = [&ctx, import_opts]() -> core::Status { return run_import(*import_opts, ctx); };
  });
}

struct ExportOptions {
  std::string file, out, format, directorate;
  int year = 0;
};

core::Status run_export(const ExportOptions& opts, const Context& ctx) {
  std::string path = opts.out.empty() ? opts.file : opts.out;
  if (path.empty())
    return core::fail(core::ErrorCode::kUsage,
                      "export needs a FILE (or --out FILE; '-' for standard output)");
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  ListFilter filter;
  filter.directorate = opts.directorate;
  if (opts.year != 0) filter.year = opts.year;
  auto proposals = store->list(filter);
  if (!proposals) return core::fail(proposals.error());
  auto format = opts.format;
  if (format.empty())  // from the file's name, else CSV
    format = path.ends_with(".xlsx") ? "xlsx" : path.ends_with(".json") ? "json" : "csv";
  if (format == "json") {
    auto array = nlohmann::json::array();
    for (const auto& p : *proposals) array.push_back(to_json(p));
    ERGON_TRY(write_output(path, array.dump(2) + "\n"));
  } else {
    auto marks = store->export_marks();
    if (!marks) return core::fail(marks.error());
    auto table = export_table(*proposals, *marks);
    if (format == "xlsx" && path == "-")
      return core::fail(core::ErrorCode::kUsage, "an xlsx export needs a FILE, not '-'");
    if (format == "xlsx")
      ERGON_TRY(write_table_xlsx(table.header, table.rows, path));
    else
      ERGON_TRY(write_output(path, export_csv(table)));
  }
  if (path != "-")
    std::cerr << "exported " << proposals->size() << " proposals to " << path << "\n";
  return {};
}

void add_export_command(CLI::App& app, Context& ctx) {
  auto export_opts = std::make_shared<ExportOptions>();
  auto* exp =
      app.add_subcommand("export", "Export proposals to CSV or xlsx (for spreadsheets) or JSON");
  exp->add_option("FILE", export_opts->file, "where to write; '-' for standard output");
  exp->add_option("--out", export_opts->out, "same as FILE");
  exp->add_option("--format", export_opts->format,
                  "csv, xlsx or json (default: from the file's name, else csv)")
      ->check(CLI::IsMember({"csv", "xlsx", "json"}));
  exp->add_option("--directorate", export_opts->directorate, "only this directorate");
  exp->add_option("--year", export_opts->year, "only this programme year");
  exp->footer(
      R"(The CSV has every field, ';'-separated with Greek money behind a UTF-8 byte-order mark
(what a Greek Excel needs), and imports back unchanged. Each row carries the revision it was
exported at, so that 'ergon import' of the edited sheet can tell your edits in it from
changes made in the meantime. The xlsx has the same columns, money as numbers (export only:
save it as CSV to import it back).
Examples:
  ergon export programme-2024.csv --year 2024
  ergon export programme-2024.xlsx)");
  exp->callback([&ctx, export_opts] {
    ctx.action = [&ctx, export_opts]() -> core::Status { return run_export(*export_opts, ctx); };
  });
}

}  // namespace

void add_transfer_commands(CLI::App& app, Context& ctx) {
  add_import_command(app, ctx);
  add_export_command(app, ctx);
}

}  // namespace ergon::client::cli

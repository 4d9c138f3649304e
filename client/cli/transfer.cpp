#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/proposal_json.h"
#include "client/store/importer.h"

namespace ergon::client::cli {
namespace {

void show_progress(std::size_t rows, std::size_t percent) {
  std::cerr << "\rimporting: " << rows << " rows (" << percent << " % of the file)" << std::flush;
}

struct ImportOptions {
  std::string file;
  int year = 0;
  bool json = false;
};

core::Status run_import(const ImportOptions& opts, const Context& ctx) {
  std::ifstream in(opts.file, std::ios::binary);
  if (!in) return core::fail(core::ErrorCode::kNotFound, "cannot read " + opts.file);
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  std::optional<int> year;
  if (opts.year != 0) year = opts.year;
  std::error_code size_ec;
  auto size = std::filesystem::file_size(opts.file, size_ec);
  ImportProgress progress{&show_progress, size_ec ? 0 : static_cast<std::size_t>(size)};
  auto report = import_csv(*store, in, year, progress);
  if (report && report->rows >= 500) std::cerr << "\n";
  if (!report) return core::fail(report.error().code, opts.file + ": " + report.error().message);
  if (opts.json) {
    std::cout << nlohmann::json{{"rows", report->rows},
                                {"created", report->created},
                                {"updated", report->updated},
                                {"unchanged", report->unchanged},
                                {"changes", report->changes},
                                {"ignored_columns", report->ignored_columns}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "imported " << report->rows << " rows: " << report->created << " created, "
              << report->updated << " updated, " << report->unchanged << " unchanged ("
              << report->changes << " changes waiting to be synchronised)\n";
    for (const auto& column : report->ignored_columns)
      std::cout << "ignored the " << column
                << " column: new rows start as drafts, planning decides with 'ergon decide'\n";
  }
  return {};
}

void add_import_command(CLI::App& app, Context& ctx) {
  auto import_opts = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand("import", "Import proposals from a spreadsheet's CSV export");
  cmd->add_option("FILE", import_opts->file, "the CSV file")->required();
  cmd->add_option("--year", import_opts->year, "programme year of rows without a year column");
  cmd->add_flag("--json", import_opts->json, "print the counts as JSON");
  cmd->footer(
      R"(Accepts ';' or ',' separators, Greek (1.234,56) or plain (1234.56) money, UTF-8 with or
without BOM. Rows without an id are matched by ΚΑ code (when unique in the year), else by
directorate and title, so importing the same file twice changes nothing. A bad row stops the
import with its line, column and reason, and nothing of the file is applied.
Example:  ergon import data/sample-programme-2024.csv --year 2024)");
  cmd->callback([&ctx, import_opts] {
    ctx.action = [&ctx, import_opts]() -> core::Status { return run_import(*import_opts, ctx); };
  });
}

struct ExportOptions {
  std::string file, out, format = "csv", directorate;
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
  std::string bytes;
  if (opts.format == "json") {
    auto array = nlohmann::json::array();
    for (const auto& p : *proposals) array.push_back(to_json(p));
    bytes = array.dump(2) + "\n";
  } else {
    bytes = export_csv(*proposals);
  }
  ERGON_TRY(write_output(path, bytes));
  if (path != "-")
    std::cerr << "exported " << proposals->size() << " proposals to " << path << "\n";
  return {};
}

void add_export_command(CLI::App& app, Context& ctx) {
  auto export_opts = std::make_shared<ExportOptions>();
  auto* exp = app.add_subcommand("export", "Export proposals to CSV (for spreadsheets) or JSON");
  exp->add_option("FILE", export_opts->file, "where to write; '-' for standard output");
  exp->add_option("--out", export_opts->out, "same as FILE");
  exp->add_option("--format", export_opts->format, "csv (default) or json")
      ->check(CLI::IsMember({"csv", "json"}));
  exp->add_option("--directorate", export_opts->directorate, "only this directorate");
  exp->add_option("--year", export_opts->year, "only this programme year");
  exp->footer(
      R"(The CSV has every field, ';'-separated with Greek money, and imports back unchanged.
Example:  ergon export programme-2024.csv --year 2024)");
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

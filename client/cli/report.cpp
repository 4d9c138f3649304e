// report: the official table of a year's programme, as this client holds it or as the server
// froze it at a stage or held it at a moment, on the terminal, as CSV, as a printable HTML
// page, as PDF (that page printed by Chromium) or as an Excel workbook.

#include <iostream>

#include "client/cli/commands.h"
#include "client/report/pdf_print.h"
#include "client/report/programme_report.h"
#include "client/report/programme_xlsx.h"
#include "client/store/importer.h"
#include "client/store/sync_state.h"
#include "shared/changelog/log_entry.h"

namespace ergon::client::cli {
namespace {

struct Options {
  int year = 0;
  std::string format = "table", out, as_of;
  bool include_withdrawn = false;
};

// The programme the report prints, with what its footer says of it.
struct Source {
  std::vector<model::Proposal> proposals;
  std::map<std::string, model::Money> envelopes;  // by source
  ReportStage stage;
  bool is_current = true;
};

core::Result<Source> current_source(LocalStore& store, int year) {
  ListFilter filter;
  filter.year = year;
  auto proposals = store.list(filter);
  if (!proposals) return core::fail(proposals.error());
  auto uses = store.envelope_uses(year);
  if (!uses) return core::fail(uses.error());
  Source source{std::move(*proposals), {}, {}, true};
  for (const auto& use : *uses)
    if (use.envelope) source.envelopes[use.source] = *use.envelope;
  auto held = SyncState(store).held_head();
  if (held && *held)
    source.stage.checkpoint = changelog::head_text((*held)->first, (*held)->second);
  return source;
}

core::Result<Source> remote_source(LocalStore& store, int year, const std::string& as_of) {
  auto programme = programme_at(store, year, as_of);
  if (!programme) return core::fail(programme.error());
  Source source{std::move(programme->proposals), {}, {}, false};
  std::string prefix = std::to_string(year) + ":";
  for (const auto& [key, amount] : programme->envelopes)
    if (key.rfind(prefix, 0) == 0) source.envelopes[key.substr(prefix.size())] = amount;
  auto& stage = source.stage;
  stage.checkpoint = std::to_string(programme->at.epoch) + "." + std::to_string(programme->at.seq);
  if (programme->stage) {
    const auto& record = *programme->stage;
    stage.name = record.name();
    stage.body = record.decision().body();
    stage.number = record.decision().number();
    stage.date = record.decision().date();
    stage.ada = record.decision().ada();
    stage.checkpoint = checkpoint_text(record);
  } else {
    stage.as_of = as_of;
  }
  return source;
}

// Where a binary format goes when no --out is given: programme-2024.pdf,
// programme-2024-approved.xlsx.
std::string default_out(const Options& o, int year) {
  std::string name = "programme-" + std::to_string(year);
  if (!o.as_of.empty()) name += "-" + o.as_of;
  for (auto& c : name)
    if (c == ':' || c == '/' || c == ' ') c = '-';
  return name + "." + o.format;
}

core::Status run_report(const Options& o, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  int year = o.year != 0 ? o.year : store->device().year;
  auto source =
      o.as_of.empty() ? current_source(*store, year) : remote_source(*store, year, o.as_of);
  if (!source) return core::fail(source.error());
  ReportOptions options{year, o.include_withdrawn, {}, source->envelopes, source->stage};
  if (source->is_current) {  // the flags of now do not describe a frozen programme
    auto flags = store->flags(year);
    if (!flags) return core::fail(flags.error());
    for (const auto& f : *flags)
      options.flags.push_back({f.id, f.flag.message, f.flag.proposals, f.acknowledged.has_value()});
  }
  const auto& ref = store->reference();
  auto report = build_report(source->proposals, ref, options);
  bool is_binary = o.format == "pdf" || o.format == "xlsx";
  std::string out = o.out.empty() ? (is_binary ? default_out(o, year) : "-") : o.out;
  if (is_binary && out == "-")
    return core::fail(core::ErrorCode::kUsage,
                      "--format " + o.format + " writes a file: give --out FILE (not '-')");
  if (o.format == "xlsx")
    ERGON_TRY(write_programme_xlsx(report, ref, out));
  else if (o.format == "pdf")
    ERGON_TRY(print_pdf(render_programme_html(report, ref), out));
  else if (o.format == "html")
    ERGON_TRY(write_output(out, render_programme_html(report, ref)));
  else if (o.format == "csv")
    ERGON_TRY(write_output(out, export_csv(source->proposals)));
  else
    ERGON_TRY(write_output(out, render_programme_text(report, ref)));
  if (out != "-")
    std::cerr << "wrote the " << year << " programme (" << report.counted_rows << " proposals) to "
              << out << "\n";
  return {};
}

}  // namespace

void add_report_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "report", "Print the programme as the official Greek table, with totals, for the committees");
  cmd->add_option("--year", opts->year, "the programme year (default: this client's)");
  cmd->add_option("--format", opts->format,
                  "table (the terminal, default), csv, html (prints on A4 landscape), pdf (that "
                  "page printed by Chromium) or xlsx (an Excel workbook)")
      ->check(CLI::IsMember({"table", "text", "csv", "html", "pdf", "xlsx"}));
  cmd->add_option("--out", opts->out,
                  "write to this file ('-': standard output; pdf and xlsx default to "
                  "programme-YEAR[-STAGE].pdf|xlsx here)");
  cmd->add_flag("--include-withdrawn", opts->include_withdrawn,
                "also list withdrawn, rejected and deferred proposals (not counted in totals)");
  cmd->add_option("--as-of", opts->as_of,
                  "the programme as the server froze it at a stage (draft, approved, "
                  "amendment-1 …) or held it at a date or time (asks the server)");
  cmd->footer(R"(Grouped by directorate and category in priority order, with subtotals, the totals
per funding source against its envelope, flagged rows marked ⚑, and the stage, its decision
and checkpoint at the foot. Without --as-of it prints what this client holds (offline).
Examples:
  ergon report
  ergon report --as-of approved --format pdf --out programme-2024.pdf
  ergon report --format xlsx --out programme-2024.xlsx)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_report(*opts, ctx); };
  });
}

}  // namespace ergon::client::cli

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
  std::string format = "table", out, as_of, directorate, area;
  bool all = false;
};

// The programme the report prints, with what its footer says of it.
struct Source {
  std::vector<model::Proposal> proposals;
  std::map<std::string, model::Money> envelopes;  // by source
  ReportStage stage;
  bool is_current = true;
  std::string standing;  // the stage the year stood at (proposals, draft-1 …)
};

core::Result<Source> current_source(LocalStore& store, int year) {
  ListFilter filter;
  filter.year = year;
  auto proposals = store.list(filter);
  if (!proposals) return core::fail(proposals.error());
  auto uses = store.envelope_uses(year);
  if (!uses) return core::fail(uses.error());
  Source source{std::move(*proposals), {}, {}, true, "proposals"};
  for (const auto& use : *uses)
    if (use.envelope) source.envelopes[use.source] = *use.envelope;
  for (const auto& y : store.device().years)
    if (y.year == year) source.standing = y.stage;
  auto held = SyncState(store).held_head();
  if (held && *held)
    source.stage.checkpoint = changelog::head_text((*held)->first, (*held)->second);
  return source;
}

core::Result<Source> remote_source(LocalStore& store, int year, const std::string& as_of) {
  auto programme = programme_at(store, year, as_of);
  if (!programme) return core::fail(programme.error());
  Source source{std::move(programme->proposals), {}, {}, false, programme->standing};
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
  const auto& ref = store->reference();
  if (!o.directorate.empty() && !ref.directorate(o.directorate))
    return core::fail(core::ErrorCode::kUsage,
                      "--directorate: '" + o.directorate +
                          "' is not a directorate code of directorates.csv (e.g. DTE)");
  if (!o.area.empty() && !ref.area(o.area))
    return core::fail(core::ErrorCode::kUsage,
                      "--area: '" + o.area + "' is not an area code of areas.csv (e.g. ALL)");
  // A part of the programme: the other rows leave every format, the CSV too.
  std::erase_if(source->proposals, [&](const model::Proposal& p) {
    return (!o.directorate.empty() && p.directorate != o.directorate) ||
           (!o.area.empty() && p.area != o.area);
  });
  ReportOptions options;
  options.year = year;
  options.is_programme = is_programme_stage(source->standing);
  options.list_not_included = o.all;
  options.directorate = o.directorate;
  options.area = o.area;
  options.municipality = store->setting("municipality");
  options.envelopes = source->envelopes;
  options.stage = source->stage;
  if (source->is_current) {  // the flags of now do not describe a frozen programme
    auto flags = store->flags(year);
    if (!flags) return core::fail(flags.error());
    for (const auto& f : *flags)
      options.flags.push_back({f.id, f.flag.message, f.flag.proposals, f.acknowledged.has_value()});
  }
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
  cmd->add_flag("--all,--include-withdrawn", opts->all,
                "add a second table, the proposals the first leaves out (deferred, rejected, "
                "withdrawn) with their reasons; not counted in the totals");
  cmd->add_option(
      "--directorate", opts->directorate,
      "only this directorate's rows (a code, e.g. DTE), totals over them, no envelopes");
  cmd->add_option("--area", opts->area,
                  "only this area's rows (a code of areas.csv), totals over them, no envelopes");
  cmd->add_option("--as-of", opts->as_of,
                  "the programme as the server froze it at a stage (draft, approved, "
                  "amendment-1 …) or held it at a date or time (asks the server)");
  cmd->footer(
      R"(From the first draft on (draft-1, consultation, committee, approved, amendments) the
table is the programme: the included proposals only, and every total, per-source figure and
diff is over them. Before it, the proposals' table: every draft, submitted and included one.
Rows are grouped by directorate and category in priority and ΚΑ order, with subtotals; the
funding sources against their envelopes (requested: submitted and included; allocated:
included); flagged rows marked ⚑; the stage, its decision and checkpoint at the foot. Without
--as-of it prints what this client holds (offline).
Examples:
  ergon report
  ergon report --as-of approved --format pdf --out programme-2024.pdf
  ergon report --directorate DTE --all
  ergon report --format xlsx --out programme-2024.xlsx)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_report(*opts, ctx); };
  });
}

}  // namespace ergon::client::cli

#include <iostream>

#include "client/cli/commands.h"
#include "client/report/programme_table.h"
#include "client/store/importer.h"

namespace ergon::client::cli {

void add_report_command(CLI::App& app, Context& ctx) {
  struct Options {
    int year = 0;
    std::string format = "text", out = "-", as_of;
    bool include_withdrawn = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("report", "Print the programme as the official Greek table, with totals");
  cmd->add_option("--year", opts->year, "the programme year (default: this client's)");
  cmd->add_option("--format", opts->format, "text (default) or csv")
      ->check(CLI::IsMember({"text", "csv"}));
  cmd->add_option("--out", opts->out, "write to this file instead of standard output");
  cmd->add_flag("--include-withdrawn", opts->include_withdrawn, "also list withdrawn proposals");
  cmd->add_option("--as-of", opts->as_of,
                  "the programme as the server held it at a stage (draft, approved, "
                  "amendment-1 …) or a date or time");
  cmd->footer("Example:  ergon report --year 2024 --out programme-2024.txt");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status {
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      ReportOptions options;
      options.year = opts->year != 0 ? opts->year : store->device().year;
      options.include_withdrawn = opts->include_withdrawn;
      auto flags = store->flags(options.year);
      if (!flags) return core::fail(flags.error());
      for (const auto& f : *flags)
        options.flags.push_back(
            {f.id, f.flag.message, f.flag.proposals, f.acknowledged.has_value()});
      std::vector<model::Proposal> frozen;
      if (!opts->as_of.empty()) {
        auto programme = programme_at(*store, options.year, opts->as_of);
        if (!programme) return core::fail(programme.error());
        frozen = std::move(programme->proposals);
        options.flags.clear();  // the flags of now do not describe that programme
      }
      ListFilter filter;
      filter.year = options.year;
      core::Result<std::vector<model::Proposal>> proposals = std::move(frozen);
      if (opts->as_of.empty()) proposals = store->list(filter);
      if (!proposals) return core::fail(proposals.error());
      std::string bytes = opts->format == "csv"
                              ? export_csv(*proposals)
                              : render_programme_text(*proposals, store->reference(), options);
      return write_output(opts->out, bytes);
    };
  });
}

}  // namespace ergon::client::cli

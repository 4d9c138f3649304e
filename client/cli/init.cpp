#include <iostream>

#include "client/cli/commands.h"

namespace ergon::client::cli {

void add_init_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string directorate, user, reference;
    int year = 0;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("init", "Set up this client's home: database, device id, reference lists");
  cmd->add_option("--directorate", opts->directorate, "the directorate code this client works for (e.g. DTE)");
  cmd->add_option("--user", opts->user, "your name, recorded with every change you make");
  cmd->add_option("--year", opts->year, "the programme year for new proposals (default: the latest in the reference data)");
  cmd->add_option("--reference", opts->reference, "folder with directorates.csv, areas.csv, funding-sources.csv, years.csv");
  cmd->footer(R"(Safe to re-run: the device id and every edit are kept; given options are updated.
Example:  ergon init --directorate DTE --user 'Μαρία Παπαδάκη' --year 2024)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status {
      InitOptions options;
      options.directorate = opts->directorate;
      options.user = opts->user;
      if (opts->year != 0) options.year = opts->year;
      options.reference_dir = opts->reference;
      auto store = LocalStore::init(ctx.home(), options);
      if (!store) return core::fail(store.error());
      const auto& d = store->device();
      std::cout << "home:        " << store->home().string() << "\n"
                << "device:      " << d.device_id.hex() << "\n"
                << "directorate: " << (d.directorate.empty() ? "(none)" : d.directorate) << "\n"
                << "user:        " << (d.user.empty() ? "(not stated)" : d.user) << "\n"
                << "year:        " << d.year << "\n";
      return {};
    };
  });
}

}  // namespace ergon::client::cli

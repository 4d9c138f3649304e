// ergon: the directorate client. Edits proposals in a local SQLite home, fully offline.

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "client/cli/commands.h"

namespace {

constexpr const char* kFooter =
    R"(The home folder holds the local database: --home DIR (before or after the command),
else $ERGON_HOME, else $XDG_DATA_HOME/ergon, else ~/.local/share/ergon.

Exit codes: 0 success, 1 other failure, 2 usage error, 3 refused (validation,
permission or a stage lock), 4 server unreachable or refused, 5 integrity error.

Start with:  ergon init --directorate DTE --user 'Μαρία Παπαδάκη'
Then:        ergon import data/sample-programme-2024.csv && ergon list --search οδοποιια)";

}  // namespace

// Times on screen are the municipality's unless the user's environment names a zone.
static void use_municipal_time_zone() {
  setenv("TZ", "Europe/Athens", /*overwrite=*/0);
  tzset();
}

// Names an unknown command instead of CLI11's bare "a subcommand is required".
static bool names_a_command(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--home") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    bool known = false;
    std::string names;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == arg;
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "ergon: '" << arg << "' is not a command; the commands are " << names
                << "\n(see 'ergon --help')\n";
      return false;
    }
    break;
  }
  return true;
}

int main(int argc, char** argv) {
  using namespace ergon;
  use_municipal_time_zone();
  CLI::App app{
      "ergon — a directorate's client for the municipal Technical Programme (Τεχνικό "
      "Πρόγραμμα). Works fully offline."};
  app.set_version_flag("--version", std::string("ergon ") + ERGON_VERSION);
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();
  client::cli::Context ctx;
  app.add_option("--home", ctx.home_flag, "the client's data folder")->envname("");
  client::cli::add_init_command(app, ctx);
  client::cli::add_edit_commands(app, ctx);
  client::cli::add_read_commands(app, ctx);
  client::cli::add_transfer_commands(app, ctx);
  client::cli::add_report_command(app, ctx);
  client::cli::add_sync_commands(app, ctx);
  client::cli::add_money_commands(app, ctx);
  client::cli::add_audit_commands(app, ctx);
  client::cli::add_stage_commands(app, ctx);
  client::cli::add_diff_command(app, ctx);
  client::cli::add_year_commands(app, ctx);
  client::cli::add_bundle_commands(app, ctx);

  if (!names_a_command(app, argc, argv)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "ergon: " << e.what() << "\n(see 'ergon --help' or 'ergon COMMAND --help')\n";
    return 2;
  }
  try {
    auto status = ctx.action ? ctx.action() : core::Status{};
    if (!status) {
      std::cerr << "ergon: " << core::shorten(status.error().message) << "\n";
      return core::exit_code_for(status.error().code);
    }
  } catch (const std::exception& e) {
    std::cerr << "ergon: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

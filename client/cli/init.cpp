#include <iostream>

#include <unistd.h>

#include "client/cli/commands.h"
#include "client/sync/sync_session.h"
#include "shared/net/endpoint.h"

namespace ergon::client::cli {
namespace {

struct Options {
  std::string directorate, user, reference, server, token, fingerprint;
  int year = 0;
  bool insecure = false, trust = false;
};

// Pins the server's key: checks a given fingerprint, or shows it and asks the person.
core::Result<std::string> pin_key(const Options& o) {
  if (o.insecure) return std::string{};
  auto presented = probe_fingerprint(o.server, std::chrono::seconds(10));
  if (!o.fingerprint.empty()) {
    if (!presented) {
      std::cerr << "ergon: the server is not reachable now (" << presented.error().message
                << "); its key will be checked at the first sync\n";
      return o.fingerprint;
    }
    if (*presented != o.fingerprint)
      return core::fail(
          core::ErrorCode::kCorrupt,
          "the server at " + o.server + " presents the key " + *presented + ", not " +
              o.fingerprint +
              ": check the fingerprint with the administrator ('ergond fingerprint')");
    return o.fingerprint;
  }
  if (!presented) return core::fail(presented.error());
  if (o.trust) return *presented;
  if (!isatty(STDIN_FILENO))
    return core::fail(core::ErrorCode::kUsage,
                      "the server presents the key " + *presented +
                          "; with no terminal to confirm it, pass --fingerprint " + *presented +
                          " (after checking it with 'ergond fingerprint') or --trust");
  std::cout << "The server at " << o.server << " presents the key\n  " << *presented
            << "\nCompare it with what the administrator reads from 'ergond fingerprint'.\n"
            << "Is it the same? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "y" && answer != "Y" && answer != "yes")
    return core::fail(core::ErrorCode::kCorrupt,
                      "the server's key was not confirmed; nothing was saved");
  return *presented;
}

// The options of `ergon init`, with the help that explains each one.
void add_init_options(CLI::App& cmd, Options& opts) {
  cmd.add_option("--directorate", opts.directorate,
                 "the directorate code this client works for (e.g. DTE)");
  cmd.add_option("--user", opts.user, "your name, recorded with every change you make");
  cmd.add_option(
      "--year", opts.year,
      "the programme year for new proposals until the first sync (default: the latest year of "
      "years.csv); from then on the server's newest open year");
  cmd.add_option("--reference", opts.reference,
                 "folder with directorates.csv, areas.csv, funding-sources.csv, years.csv");
  cmd.add_option("--server", opts.server, "the server, HOST:PORT");
  cmd.add_option("--token", opts.token, "this device's token from 'ergond enrol' (DEVICE.SECRET)");
  cmd.add_option("--fingerprint", opts.fingerprint,
                 "the server key's fingerprint (SHA256:…) from 'ergond fingerprint'");
  cmd.add_flag("--trust", opts.trust,
               "pin the key the server presents without asking (no terminal)");
  cmd.add_flag("--insecure", opts.insecure, "plain TCP without TLS: for tests on one machine only");
  cmd.footer(
      R"(Safe to re-run: the device id and every edit made offline are kept; given options are updated.
The year is the server's: at every sync a home takes the server's newest open year for its new
proposals (planning opens the next one with 'ergon year start').
Examples:
  ergon init --directorate DTE --user 'Μαρία Παπαδάκη' --year 2024      (offline until a server)
  ergon init --server ergon.heraklion.gr:7400 --token 7ea7….ec85… --fingerprint SHA256:LHKN…
  ergon init --directorate DTE --token 7ea7….ec85… --fingerprint SHA256:LHKN…  (bundles only))");
}

// Checks the server options and pins its key before touching the home, so that a wrong
// fingerprint or token leaves nothing half-saved.
core::Status run_init(const Options& opts, const Context& ctx) {
  if (!opts.server.empty()) {
    if (auto ok = net::parse_host_port(opts.server); !ok) return core::fail(ok.error());
    if (opts.token.empty() || opts.token.find('.') == std::string::npos)
      return core::fail(core::ErrorCode::kUsage,
                        "--server needs --token DEVICE.SECRET, as printed by 'ergond enrol'");
  }
  bool is_offline_only = opts.server.empty() && !opts.token.empty();
  if (is_offline_only && (opts.token.find('.') == std::string::npos || opts.fingerprint.empty()))
    return core::fail(core::ErrorCode::kUsage,
                      "a home that syncs by bundle needs --token DEVICE.SECRET and --fingerprint "
                      "SHA256:… (both from the administrator), and no --server");
  std::string pinned = is_offline_only ? opts.fingerprint : std::string();
  if (!opts.server.empty()) {
    auto key = pin_key(opts);
    if (!key) return core::fail(key.error());
    pinned = *key;
  }
  InitOptions options;
  options.directorate = opts.directorate;
  options.user = opts.user;
  if (opts.year != 0) options.year = opts.year;
  options.reference_dir = opts.reference;
  auto store = LocalStore::init(ctx.home(), options);
  if (!store) return core::fail(store.error());
  // A year the user gave stays given when init runs again without --year: never "assumed".
  if (opts.year != 0) ERGON_TRY(store->set_setting("year_given", "1"));
  bool is_given = opts.year != 0 || store->setting("year_given") == "1";
  if (is_offline_only) {
    ERGON_TRY(store->set_setting("token", opts.token));
    ERGON_TRY(store->set_setting("fingerprint", pinned));
  }
  if (!opts.server.empty()) {
    ERGON_TRY(store->set_setting("server", opts.server));
    ERGON_TRY(store->set_setting("token", opts.token));
    ERGON_TRY(store->set_setting("fingerprint", pinned));
    ERGON_TRY(store->set_setting("insecure", opts.insecure ? "1" : "0"));
  }
  const auto& d = store->device();
  std::cout << "home:        " << store->home().string() << "\n"
            << "device:      " << d.device_id.hex() << "\n"
            << "directorate: " << (d.directorate.empty() ? "(none)" : d.directorate) << "\n"
            << "user:        " << (d.user.empty() ? "(not stated)" : d.user) << "\n"
            << "year:        " << d.year
            << (!store->setting("server_id").empty() ? ""
                : !is_given
                    ? " (assumed: the latest year of the reference data; the server confirms it at "
                      "the first sync)"
                    : " (as given; the server confirms it at the first sync)")
            << "\n";
  if (is_offline_only)
    std::cout << "server:      none: syncs by bundle (ergon bundle export), answers checked "
                 "against "
              << pinned << "\n";
  if (!opts.server.empty())
    std::cout << "server:      " << opts.server
              << (opts.insecure ? " (plain TCP, --insecure)" : " key " + pinned) << "\n";
  return {};
}

}  // namespace

void add_init_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "init", "Set up this client's home: database, device id, reference lists, server");
  add_init_options(*cmd, *opts);
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_init(*opts, ctx); };
  });
}

}  // namespace ergon::client::cli

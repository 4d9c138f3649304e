// ergond: the central server's administration commands: create a store, enrol devices, list
// them, verify the audit chain. Each command opens the store in --data and writes through
// server/store, so it works while a server runs on the same folder.

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "server/admin/audit_verify.h"
#include "server/admin/backup_commands.h"
#include "server/backup/data_lock.h"
#include "server/net/server.h"
#include "server/store/master_store.h"
#include "shared/core/clock.h"
#include "shared/model/reference.h"
#include "shared/net/tls.h"

namespace {

using namespace ergon;
using nlohmann::json;

constexpr const char* kFooter =
    R"(Exit codes: 0 success, 1 other failure, 2 usage error, 3 refused (validation,
permission or a stage lock), 4 server unreachable or refused, 5 integrity error.

Start with:  ergond init --data /var/lib/ergon --year 2024
Then:        ergond enrol --data /var/lib/ergon --role directorate --directorate DTE --name 'Laptop Τεχνικών Έργων')";

struct Options {
  std::string data, reference, role, directorate, name, municipality, listen = "127.0.0.1:7400";
  int year = 0;
  std::vector<std::string> heads;
  bool json = false;
  bool insecure = false;
  std::size_t max_connections = server::ServerOptions{}.max_connections;
  std::size_t max_page_bytes = server::ServerOptions{}.max_page_bytes;
  std::size_t max_logging_in = server::ServerOptions{}.max_unadmitted_per_address;
};

// A millisecond timestamp as people read it (01/03/2024 14:30, the municipality's time), or
// "never".
std::string local_time(std::int64_t ms) { return ms <= 0 ? "never" : core::format_human(ms); }

// Raises the open-file limit to what max_connections needs (each connection is a descriptor,
// plus the store's files and the listener); lowers max_connections when the hard limit is lower.
std::size_t raise_file_limit(std::size_t max_connections) {
  constexpr rlim_t kReserve = 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return max_connections;
  rlim_t want = static_cast<rlim_t>(max_connections) + kReserve;
  if (limit.rlim_cur < want) {
    limit.rlim_cur = std::min(want, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) (void)getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur >= want) return max_connections;
  auto fits = limit.rlim_cur > kReserve ? static_cast<std::size_t>(limit.rlim_cur - kReserve) : 1;
  std::cerr << "ergond: the open-file limit is " << limit.rlim_cur << "; serving at most " << fits
            << " connections (raise LimitNOFILE / ulimit -n for " << max_connections << ")\n";
  return fits;
}

core::Status run_init(const Options& o) {
  std::optional<int> year;
  if (o.year != 0) year = o.year;
  auto store = server::MasterStore::create(
      o.data,
      o.reference.empty() ? model::default_reference_dir() : std::filesystem::path(o.reference),
      year);
  if (!store) return core::fail(store.error());
  if (!o.municipality.empty()) ERGON_TRY(store->set_municipality(o.municipality));
  ERGON_TRY(net::create_server_identity(o.data));
  auto fingerprint = net::server_fingerprint(o.data);
  if (!fingerprint) return core::fail(fingerprint.error());
  const auto& info = store->info();
  if (o.json) {
    std::cout << json{{"server_id", info.server_id},
                      {"epoch", info.epoch},
                      {"year", info.year},
                      {"fingerprint", *fingerprint}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "created the server store in " << o.data << "\n"
              << "server id:   " << info.server_id << "\n"
              << "epoch:       " << info.epoch << "\n"
              << "year:        " << info.year << "\n"
              << "fingerprint: " << *fingerprint << "  (clients pin this key)\n";
  }
  return {};
}

core::Status run_enrol(const Options& o) {
  auto role = merge::parse_role(o.role);
  if (!role) return core::fail(core::ErrorCode::kUsage, role.error().message);
  auto store = server::MasterStore::open(o.data);
  if (!store) return core::fail(store.error());
  auto enrolment = store->enrol(*role, o.directorate, o.name);
  if (!enrolment) return core::fail(enrolment.error());
  auto fingerprint = net::server_fingerprint(o.data);
  if (o.json)
    std::cout << json{{"device_id", enrolment->device_id},
                      {"token", enrolment->token},
                      {"fingerprint", fingerprint ? json(*fingerprint) : json(nullptr)}}
                     .dump(2)
              << "\n";
  else
    std::cout << enrolment->token << "\n";
  return {};
}

core::Status run_devices(const Options& o) {
  auto store = server::MasterStore::open(o.data);
  if (!store) return core::fail(store.error());
  auto devices = store->devices();
  if (!devices) return core::fail(devices.error());
  json out = json::array();
  for (const auto& d : *devices) {
    out.push_back(
        {{"device_id", d.device_id},
         {"client_device_id", d.client_device_id ? json(d.client_device_id->hex()) : json(nullptr)},
         {"role", merge::to_string(d.role)},
         {"directorate", d.directorate},
         {"name", d.name},
         {"revoked", d.is_revoked},
         {"high_water_mark", d.high_water_mark},
         {"enrolled_ms", d.enrolled_ms},
         {"last_seen_ms", d.last_seen_ms > 0 ? json(d.last_seen_ms) : json(nullptr)}});
    if (!o.json)
      std::cout << d.device_id << "  " << merge::to_string(d.role) << " " << d.directorate << "  "
                << d.name << (d.is_revoked ? "  (revoked)" : "")
                << "  changes: " << d.high_water_mark
                << "  last seen: " << local_time(d.last_seen_ms) << "\n";
  }
  if (o.json) std::cout << out.dump(2) << "\n";
  return {};
}

core::Status run_revoke(const Options& o) {
  auto store = server::MasterStore::open(o.data);
  if (!store) return core::fail(store.error());
  auto device = store->find_device(o.name);
  if (!device) return core::fail(device.error());
  ERGON_TRY(store->revoke(device->device_id));
  std::cout << "revoked " << device->device_id << " ('" << device->name
            << "'): its token is refused from now on, and a running server closes its open "
               "sessions within a second\n";
  return {};
}

core::Status run_fingerprint(const Options& o) {
  auto fingerprint = net::server_fingerprint(o.data);
  if (!fingerprint) return core::fail(fingerprint.error());
  std::cout << *fingerprint << "\n";
  return {};
}

core::Status run_serve(const Options& o) {
  auto where = server::parse_host_port(o.listen);
  if (!where) return core::fail(where.error());
  // Held while serving: a restore waits for the server to stop.
  auto lock = server::backup::DataLock::acquire(
      o.data, "stop it before serving the folder again, or choose another --data");
  if (!lock) return core::fail(lock.error());
  auto reader = server::MasterStore::open(o.data);
  if (!reader) return core::fail(reader.error());
  auto writer = server::StoreWriter::start(o.data);
  if (!writer) return core::fail(writer.error());
  std::optional<boost::asio::ssl::context> tls;
  if (!o.insecure) {
    auto context = net::server_context(o.data);
    if (!context) return core::fail(context.error());
    tls.emplace(std::move(*context));
  }
  server::ServerOptions options;
  options.max_connections = raise_file_limit(o.max_connections);
  options.max_page_bytes = o.max_page_bytes;
  options.max_unadmitted_per_address = o.max_logging_in;
  boost::asio::io_context io(1);
  server::Server server(io, *reader, **writer, tls, options);
  auto endpoint = server.listen(where->first, where->second);
  if (!endpoint) return core::fail(endpoint.error());
  auto address = endpoint->address().to_string();
  if (endpoint->address().is_v6()) address = "[" + address + "]";
  std::cout << "listening on " << address << ":" << endpoint->port() << std::endl;
  std::cerr << "ergond: serving " << o.data
            << (o.insecure ? " over plain TCP (--insecure)" : " over TLS") << ", programme year "
            << reader->info().year << "\n";
  server.start();
  io.run();
  (*writer)->stop();
  std::cerr << "ergond: stopped\n";
  return {};
}

// Each command's options go into the one Options; its callback only records the Action, which
// main runs once the whole command line has parsed.
using server::admin::Action;

void add_init_command(CLI::App& app, Options& o, Action& action) {
  auto* init = app.add_subcommand(
      "init", "Create a server store: new server id, epoch 1, the reference lists");
  init->add_option("--data", o.data, "the server's data folder")->required();
  init->add_option("--reference", o.reference,
                   "folder with directorates.csv, areas.csv, funding-sources.csv, years.csv "
                   "(default: the shipped data/)");
  init->add_option("--year", o.year, "the programme year (default: the latest in years.csv)");
  init->add_option("--municipality", o.municipality,
                   "the municipality's name, printed at the head of every table (e.g. 'Δήμος "
                   "Ηρακλείου'; 'ergond settings' changes it later)");
  init->add_flag("--json", o.json, "print server id, epoch and year as JSON");
  init->footer(
      "Example:  ergond init --data /var/lib/ergon --year 2024 --municipality 'Δήμος Ηρακλείου'");
  init->callback([&o, &action] { action = [&o] { return run_init(o); }; });
}

core::Status run_settings(const Options& o) {
  auto store = server::MasterStore::open(o.data);
  if (!store) return core::fail(store.error());
  if (!o.municipality.empty()) ERGON_TRY(store->set_municipality(o.municipality));
  auto name = store->municipality();
  if (!name) return core::fail(name.error());
  if (o.json)
    std::cout << json{{"municipality", *name}}.dump(2) << "\n";
  else
    std::cout << "municipality: " << (name->empty() ? "(not set)" : *name) << "\n";
  return {};
}

void add_settings_command(CLI::App& app, Options& o, Action& action) {
  auto* settings = app.add_subcommand(
      "settings", "Show or change the server's settings (clients learn them at their next sync)");
  settings->add_option("--data", o.data, "the server's data folder")->required();
  settings->add_option("--municipality", o.municipality,
                       "the municipality's name, printed at the head of every table");
  settings->add_flag("--json", o.json, R"(print {"municipality"})");
  settings->footer(
      "Example:  ergond settings --data /var/lib/ergon --municipality 'Δήμος Ηρακλείου'");
  settings->callback([&o, &action] { action = [&o] { return run_settings(o); }; });
}

void add_enrol_command(CLI::App& app, Options& o, Action& action) {
  auto* enrol =
      app.add_subcommand("enrol", "Enrol a device; prints only its token (DEVICE.SECRET)");
  enrol->add_option("--data", o.data, "the server's data folder")->required();
  enrol->add_option("--role", o.role, "directorate, planning, budget or auditor")->required();
  enrol->add_option("--directorate", o.directorate,
                    "for the directorate role: its code (e.g. DTE)");
  enrol->add_option("--name", o.name, "who or what the device is")->required();
  enrol->add_flag("--json", o.json, R"(print {"device_id", "token"})");
  enrol->footer(R"(The token is shown once; the server keeps only a hash of its secret.
Example:  ergond enrol --data /var/lib/ergon --role directorate --directorate DTE --name 'Μαρία, laptop')");
  enrol->callback([&o, &action] { action = [&o] { return run_enrol(o); }; });
}

void add_serve_command(CLI::App& app, Options& o, Action& action) {
  auto* serve =
      app.add_subcommand("serve", "Serve the programme to clients (TLS unless --insecure)");
  serve->add_option("--data", o.data, "the server's data folder")->required();
  serve->add_option("--listen", o.listen,
                    "HOST:PORT to listen on; port 0 picks a free one (default 127.0.0.1:7400)");
  serve->add_flag("--insecure", o.insecure, "plain TCP without TLS: for tests on one machine only");
  serve
      ->add_option("--max-connections", o.max_connections,
                   "connections served at once; later ones are told to retry (default 2048; "
                   "the open-file limit is raised to match)")
      ->check(CLI::Range(1, 1'000'000));
  serve
      ->add_option("--max-logging-in-per-address", o.max_logging_in,
                   "connections from one address still logging in (TLS and hello); past this "
                   "its new connections are closed at once (default 256; a town hall behind one "
                   "NAT address may need more)")
      ->check(CLI::Range(1, 1'000'000));
  serve
      ->add_option("--max-page-bytes", o.max_page_bytes,
                   "where a pull page stops growing (default 4194304); smaller pages suit a poor "
                   "line, and the tests use tiny ones to page every bootstrap")
      ->check(CLI::Range(1024, 12 << 20));
  serve->footer(R"(Prints 'listening on HOST:PORT' once bound. Stops cleanly on SIGINT or SIGTERM.
Example:  ergond serve --data /var/lib/ergon --listen 0.0.0.0:7400)");
  serve->callback([&o, &action] { action = [&o] { return run_serve(o); }; });
}

void add_fingerprint_command(CLI::App& app, Options& o, Action& action) {
  auto* fingerprint = app.add_subcommand(
      "fingerprint", "Print the server key's fingerprint (SHA256:…) for clients to pin");
  fingerprint->add_option("--data", o.data, "the server's data folder")->required();
  fingerprint->callback([&o, &action] { action = [&o] { return run_fingerprint(o); }; });
}

void add_devices_command(CLI::App& app, Options& o, Action& action) {
  auto* devices = app.add_subcommand(
      "devices", "List the enrolled devices: enrolment id, role, name, changes, last seen");
  devices->add_option("--data", o.data, "the server's data folder")->required();
  devices->add_flag("--json", o.json, "print a JSON array");
  devices->callback([&o, &action] { action = [&o] { return run_devices(o); }; });
}

void add_revoke_command(CLI::App& app, Options& o, Action& action) {
  auto* revoke = app.add_subcommand(
      "revoke", "Revoke a device: its token is refused from its next connection");
  revoke->add_option("--data", o.data, "the server's data folder")->required();
  revoke
      ->add_option("DEVICE", o.name,
                   "the enrolment id as 'ergond devices' lists it, or a unique prefix of it")
      ->required();
  revoke->footer(R"(A running server closes the device's open sessions within a second. To give
the same laptop a new token: 'ergond enrol …', then on the laptop 'ergon init --server … --token NEW'
(it keeps its device id, numbering and pending work; the old enrolment is revoked by the move).
Example:  ergond revoke --data /var/lib/ergon 7ea7d738)");
  revoke->callback([&o, &action] { action = [&o] { return run_revoke(o); }; });
}

void add_verify_commands(CLI::App& app, Options& o, Action& action) {
  auto describe = [&o, &action](CLI::App* cmd) {
    cmd->add_option("--data", o.data, "the server's data folder")->required();
    cmd->add_option("--head", o.heads,
                    "a chain head a client holds, EPOCH.SEQ:HEX as 'ergon status' shows it "
                    "(repeat for several)");
    cmd->add_flag("--json", o.json, "print the report as JSON");
    cmd->footer(R"(Recomputes the chain from the first row over every stored column of every log
row (rows written before chain version 2 under version 1), checks each row's columns against
the change as it was sent, the master programme against the accepted values of the log applied
in order, and each --head against the log (a truncated tail shows there). The first problem is
reported with its row and what differs, exit code 5.
Example:  ergond audit verify --data /var/lib/ergon --head 1.120:5f3a…)");
    cmd->callback([&o, &action] {
      action = [&o] { return server::admin::run_audit_verify(o.data, o.heads, o.json); };
    });
  };
  auto* audit = app.add_subcommand("audit", "The audit of the change log: verify");
  audit->require_subcommand(1);
  describe(audit->add_subcommand("verify", "Verify the change log, the master and client heads"));
  describe(app.add_subcommand("verify", "The same as 'ergond audit verify'"));
}

// Runs the chosen command and turns its Status into a message and an exit code.
int run_action(const Action& action) {
  try {
    auto status = action();
    if (!status) {
      std::cerr << "ergond: " << core::shorten(status.error().message) << "\n";
      return core::exit_code_for(status.error().code);
    }
  } catch (const std::exception& e) {
    std::cerr << "ergond: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Dates are the municipality's (a stage decision "not after today") unless the environment
  // names a zone; set before any thread starts.
  setenv("TZ", "Europe/Athens", /*overwrite=*/0);
  tzset();
  CLI::App app{
      "ergond — the Ergon server: holds the master Technical Programme, merges the "
      "directorates' changes, keeps the audit chain"};
  app.set_version_flag("--version", std::string("ergond ") + ERGON_VERSION);
  app.footer(kFooter);
  app.require_subcommand(1);
  Options o;
  Action action;
  add_init_command(app, o, action);
  add_enrol_command(app, o, action);
  add_settings_command(app, o, action);
  add_serve_command(app, o, action);
  add_fingerprint_command(app, o, action);
  add_devices_command(app, o, action);
  add_revoke_command(app, o, action);
  add_verify_commands(app, o, action);
  server::admin::BackupOptions backup_options;
  server::admin::add_backup_commands(app, backup_options, action);
  server::admin::add_bundle_command(app, backup_options, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "ergond: " << e.what() << "\n(see 'ergond --help' or 'ergond COMMAND --help')\n";
    return 2;
  }
  auto code = run_action(action);
  return code == 0 && backup_options.unhealthy ? 1 : code;
}

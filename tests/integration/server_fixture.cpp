#include "tests/integration/server_fixture.h"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include <catch2/catch.hpp>
#include <signal.h>

#include "client/store/local_store.h"
#include "client/store/sync_state.h"
#include "shared/storage/database.h"
#include "tests/support/paths.h"

namespace ergon::testing::integration {

using namespace std::chrono_literals;

std::string ergond_binary() { return (binary_dir() / "server" / "admin" / "ergond").string(); }
std::string ergon_binary() { return (binary_dir() / "client" / "cli" / "ergon").string(); }
std::filesystem::path sample_csv() { return reference_dir() / "sample-programme-2024.csv"; }

std::uint64_t test_seed() {
  if (const char* text = std::getenv("ERGON_INTEGRATION_SEED"); text && *text)
    return std::strtoull(text, nullptr, 10);
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

void ok(const Client& client, const std::vector<std::string>& args) {
  auto result = client.run(args);
  INFO(result.err);
  REQUIRE(result.status.ok());
}

json parse_json(const ProcessResult& result) {
  auto parsed = json::parse(result.out, nullptr, false);
  if (parsed.is_discarded())
    FAIL("not JSON (exit " << result.exit_code() << "): " << result.out
                           << "\nstderr: " << result.err);
  return parsed;
}

json json_in(const std::string& text) {
  auto open = text.find('{');
  auto close = text.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open)
    FAIL("no JSON object in: " << text);
  auto parsed = json::parse(text.substr(open, close - open + 1), nullptr, false);
  if (parsed.is_discarded()) FAIL("not JSON: " << text);
  return parsed;
}

// --- Client ---

ProcessResult Client::run(const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv{ergon_binary(), "--home", home.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {}, timeout);
}

json Client::run_json(const std::vector<std::string>& args) const {
  auto result = run(args);
  if (!result.status.ok())
    FAIL("ergon " << args.front() << " on " << home.filename().string() << " exited "
                  << result.exit_code() << ": " << result.err);
  return parse_json(result);
}

json Client::sync() const {
  auto result = run({"sync", "--json"});
  auto code = result.exit_code();
  if (code != 0 && code != 3)
    FAIL("ergon sync on " << home.filename().string() << " exited " << code << ": " << result.err);
  auto counts = parse_json(result);
  // A sync exits 3 exactly when the server rejected a change it sent, the counts printed all
  // the same (#27: a script notices).
  CHECK((code == 3) == (counts.at("rejected").get<int>() > 0));
  return counts;
}

void decide_undecided(const Client& planning, const std::string& decision) {
  planning.sync();
  std::vector<std::string> args = {"decide"};
  for (const auto& p : planning.run_json({"list", "--json"}))
    if (p.at("state") == "draft" || p.at("state") == "submitted")
      args.push_back(p.at("id").get<std::string>().substr(0, 12));
  if (args.size() == 1) return;
  args.push_back(decision);
  if (decision != "included") args.insert(args.end(), {"--reason", "Δεν ωρίμασε ακόμη"});
  ok(planning, args);
  planning.sync();
}
json Client::status() const { return run_json({"status", "--json"}); }

std::vector<std::string> Client::sync_argv() const {
  return {ergon_binary(), "--home", home.string(), "sync", "--json"};
}

std::vector<std::string> Client::proposal_ids(const std::string& of) const {
  std::vector<std::string> ids;
  for (const auto& p : run_json({"list", "--json", "--directorate", of})) ids.push_back(p.at("id"));
  return ids;
}

// --- RunningServer ---

RunningServer::RunningServer(std::filesystem::path root, int year)
    : root_(std::move(root)), data_(root_ / "server") {
  auto init = run_process({ergond_binary(), "init", "--data", data_.string(), "--year",
                           std::to_string(year), "--json"});
  if (!init.status.ok()) FAIL("ergond init exited " << init.exit_code() << ": " << init.err);
  fingerprint_ = parse_json(init).at("fingerprint");
  auto printed = admin("fingerprint");
  REQUIRE(printed.status.ok());
  REQUIRE(printed.out == fingerprint_ + "\n");
}

RunningServer::~RunningServer() {
  if (process_) process_->kill_and_wait(SIGKILL);
}

void RunningServer::start(int port, const std::vector<std::string>& extra) {
  if (process_ && !process_->try_wait()) FAIL("the server is already running");
  process_.reset();
  log_ = root_ / ("serve-" + std::to_string(++starts_) + ".log");
  std::vector<std::string> argv{ergond_binary(), "serve",    "--data",
                                data_.string(),  "--listen", "127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_.emplace(ChildProcess::spawn(argv, log_));
  static const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
  auto deadline = std::chrono::steady_clock::now() + 15s;
  for (;;) {
    std::smatch match;
    auto text = read_file(log_);
    if (std::regex_search(text, match, listening)) {
      port_ = std::stoi(match[1].str());
      REQUIRE(port_ > 0);
      if (port != 0) REQUIRE(port_ == port);
      return;
    }
    if (auto ended = process_->try_wait())
      FAIL("ergond serve ended (exit " << ended->code << ", signal " << ended->signal
                                       << ") before listening: " << text);
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("ergond serve did not listen within 15 s: " << text);
    std::this_thread::sleep_for(5ms);
  }
}

bool RunningServer::kill9() {
  if (!process_) return false;
  auto status = process_->kill_and_wait(SIGKILL);
  return !status.exited && status.signal == SIGKILL;
}

ExitStatus RunningServer::stop() {
  if (!process_) return {};
  return process_->kill_and_wait(SIGTERM);
}

std::size_t RunningServer::resident_bytes() const {
  auto status = read_file(std::filesystem::path("/proc") / std::to_string(pid()) / "status");
  auto at = status.find("VmRSS:");
  if (at == std::string::npos) FAIL("no VmRSS for the server");
  return std::stoull(status.substr(at + 6)) * 1024;  // reported in kB
}

bool RunningServer::is_running() { return process_ && !process_->try_wait(); }

std::string RunningServer::serve_log() const {
  return log_.empty() ? std::string{} : read_file(log_);
}

ProcessResult RunningServer::admin(const std::string& command,
                                   const std::vector<std::string>& args) const {
  std::vector<std::string> argv{ergond_binary(), command, "--data", data_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

std::string RunningServer::enrol(const std::string& role, const std::string& directorate,
                                 const std::string& name) const {
  std::vector<std::string> args{"--role", role, "--name", name, "--json"};
  if (!directorate.empty()) {
    args.push_back("--directorate");
    args.push_back(directorate);
  }
  auto result = admin("enrol", args);
  if (!result.status.ok()) FAIL("ergond enrol exited " << result.exit_code() << ": " << result.err);
  auto out = parse_json(result);
  REQUIRE(out.at("fingerprint") == fingerprint_);
  return out.at("token");
}

json RunningServer::verify() const {
  auto result = admin("verify", {"--json"});
  if (!result.status.ok())
    FAIL("ergond verify exited " << result.exit_code() << ": " << result.err);
  return parse_json(result);
}

json RunningServer::devices() const {
  auto result = admin("devices", {"--json"});
  if (!result.status.ok())
    FAIL("ergond devices exited " << result.exit_code() << ": " << result.err);
  return parse_json(result);
}

std::uint64_t RunningServer::high_water_mark(const std::string& token) const {
  auto enrolled = token.substr(0, token.find('.'));
  for (const auto& d : devices())
    if (d.at("device_id") == enrolled) return d.at("high_water_mark").get<std::uint64_t>();
  FAIL("no enrolment " << enrolled);
  return 0;
}

Client RunningServer::add_client(const std::string& name, const std::string& role,
                                 const std::string& directorate) {
  Client client{root_ / name, enrol(role, directorate, name), directorate};
  std::vector<std::string> args{"init",       "--user",        "Χρήστης " + name, "--year",
                                "2024",       "--server",      address(),         "--token",
                                client.token, "--fingerprint", fingerprint_};
  if (!directorate.empty()) {
    args.push_back("--directorate");
    args.push_back(directorate);
  }
  auto result = client.run(args);
  if (!result.status.ok()) FAIL("ergon init exited " << result.exit_code() << ": " << result.err);
  return client;
}

void RunningServer::repoint(const Client& client) const {
  auto result = client.run(
      {"init", "--server", address(), "--token", client.token, "--fingerprint", fingerprint_});
  if (!result.status.ok())
    FAIL("ergon init (repoint) exited " << result.exit_code() << ": " << result.err);
}

// --- helpers ---

Client seed_programme(RunningServer& server) {
  auto planning = server.add_client("planning", "planning", "");
  auto first = planning.sync();  // learns its role (planning) before it imports
  REQUIRE(first.at("bootstrapped") == true);
  auto imported = planning.run({"import", sample_csv().string()});
  if (!imported.status.ok()) FAIL("import exited " << imported.exit_code() << ": " << imported.err);
  auto synced = planning.sync();
  REQUIRE(synced.at("sent") == 20);
  REQUIRE(synced.at("accepted") == 20);
  REQUIRE(planning.status().at("pending") == 0);
  return planning;
}

std::pair<ExitStatus, bool> wait_or_kill(ChildProcess& child, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = child.try_wait()) return {*status, false};
    std::this_thread::sleep_for(2ms);
  }
  return {child.kill_and_wait(SIGKILL), true};
}

std::uint64_t last_device_seq(const std::filesystem::path& home) {
  // The device's sequence counter (meta next_seq): accepted changes leave the outbox listing.
  auto db = storage::Database::open(home / "ergon.db", storage::Durability::kNormal);
  if (!db) FAIL("open " << home << ": " << db.error().message);
  auto stmt = db->prepare("SELECT value FROM meta WHERE key = 'next_seq'");
  REQUIRE(stmt);
  auto row = stmt->step();
  REQUIRE(row);
  REQUIRE(*row == storage::StepResult::kRow);
  return std::stoull(stmt->column_text(0)) - 1;
}

std::uint64_t cursor_of(const std::filesystem::path& home) {
  auto store = client::LocalStore::open(home);
  if (!store) FAIL("open " << home << ": " << store.error().message);
  auto cursor = ergon::client::SyncState(*store).cursor();
  if (!cursor) FAIL("cursor of " << home << ": " << cursor.error().message);
  return *cursor;
}

std::size_t make_remarks_edits(const std::filesystem::path& home,
                               const std::vector<std::string>& ids, std::size_t count,
                               const std::string& prefix, std::mt19937_64& random,
                               std::map<std::string, std::string>& last) {
  REQUIRE(!ids.empty());
  auto store = client::LocalStore::open(home);
  if (!store) FAIL("open " << home << ": " << store.error().message);
  std::size_t queued = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& id = ids[random() % ids.size()];
    auto parsed = core::ProposalId::parse(id);
    if (!parsed) FAIL("bad id " << id);
    auto value = "Παρατήρηση " + prefix + "-" + std::to_string(i);
    auto result = store->edit(*parsed, {{"remarks", value}});
    if (!result) FAIL("edit " << id << ": " << result.error().message);
    queued += result->queued_seqs.size();
    last[id] = value;
  }
  return queued;
}

// Every cell of the workbook's first sheet as JSON, values (the cached ones) and formulas.
constexpr const char* kDumpXlsx = R"(import json, sys, openpyxl
values = openpyxl.load_workbook(sys.argv[1], data_only=True).active
formulas = openpyxl.load_workbook(sys.argv[1]).active
print(json.dumps({"freeze": values.freeze_panes, "landscape": values.page_setup.orientation,
                  "values": [list(r) for r in values.iter_rows(values_only=True)],
                  "formulas": [list(r) for r in formulas.iter_rows(values_only=True)]},
                 ensure_ascii=False, default=str))
)";

json read_xlsx(const std::filesystem::path& dir, const std::filesystem::path& xlsx) {
  std::ofstream(dir / "dump.py") << kDumpXlsx;
  // The system's python3, which has python3-openpyxl (a user's own python may not).
  auto run = run_process({"/usr/bin/python3", (dir / "dump.py").string(), xlsx.string()});
  INFO(run.err);
  REQUIRE(run.status.ok());
  return json::parse(run.out);
}

}  // namespace ergon::testing::integration

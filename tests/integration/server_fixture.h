#pragma once
// Integration fixture: a real `ergond` (init, enrol, serve over TLS on 127.0.0.1, killed with
// SIGKILL or stopped with SIGTERM, restarted on the same data folder) and real `ergon` client
// homes driven through the command line. Everything lives in a TempDir owned by the test.
// Helpers that fail call Catch's FAIL/REQUIRE, so they are used from the test's thread only.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"

namespace ergon::testing::integration {

using nlohmann::json;

std::string ergond_binary();
std::string ergon_binary();
std::filesystem::path sample_csv();

/// The seed of a randomised test: $ERGON_INTEGRATION_SEED when set (to replay a run), else a
/// fresh random one. Tests print it with INFO.
std::uint64_t test_seed();

/// Parses the JSON printed by a command, failing the test with the command's output if it is
/// not JSON.
json parse_json(const ProcessResult& result);

/// The JSON document inside a captured output that also holds progress lines (a child's log
/// with stdout and stderr together): from the first '{' to the last '}'.
json json_in(const std::string& text);

/// One `ergon` home bound to the server.
struct Client {
  std::filesystem::path home;
  std::string token;
  std::string directorate;

  /// Runs `ergon --home HOME ARGS…`.
  ProcessResult run(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  /// Runs a command that must succeed and prints JSON; returns the JSON.
  json run_json(const std::vector<std::string>& args) const;
  /// `ergon sync --json`, which must succeed.
  json sync() const;
  /// `ergon status --json`.
  json status() const;
  /// The argv of `ergon --home HOME sync --json`, for spawning.
  std::vector<std::string> sync_argv() const;
  /// Ids (full hex) of the proposals of `directorate` in this client's view.
  std::vector<std::string> proposal_ids(const std::string& directorate) const;
};

/// Every cell of an xlsx file's first sheet, read back with the system's python3-openpyxl:
/// {"freeze", "landscape", "values" (cached values), "formulas"}; `dir` holds the script.
json read_xlsx(const std::filesystem::path& dir, const std::filesystem::path& xlsx);

/// Runs `client ARGS…`, which must succeed (the test fails with its stderr otherwise).
void ok(const Client& client, const std::vector<std::string>& args);

/// Planning decides every draft and submitted proposal it holds (`included`, or `deferred` /
/// `rejected` with a reason) and syncs: a draft is frozen only when none is undecided.
void decide_undecided(const Client& planning, const std::string& decision = "included");

/// A server data folder and, while started, the `ergond serve` process on it.
class RunningServer {
 public:
  /// `ergond init --data ROOT/server --year YEAR`, then reads its fingerprint.
  explicit RunningServer(std::filesystem::path root, int year = 2024);
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  ~RunningServer();

  /// Starts `ergond serve` on 127.0.0.1:PORT (0: a free one), with `extra` options such as
  /// `--insecure`, and waits for "listening on".
  void start(int port = 0, const std::vector<std::string>& extra = {});
  /// SIGKILL, and waits for it; true when the signal ended it (false if it had exited).
  bool kill9();
  /// SIGTERM, and waits for it: the clean stop.
  ExitStatus stop();
  bool is_running();
  /// The pid of the running `ergond serve` (-1 when none).
  int pid() const { return process_ ? process_->pid() : -1; }
  /// The resident memory of the running server, in bytes (from /proc).
  std::size_t resident_bytes() const;

  const std::filesystem::path& data() const { return data_; }
  const std::filesystem::path& root() const { return root_; }
  const std::string& fingerprint() const { return fingerprint_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// The log of the current (or last) `ergond serve` process.
  std::string serve_log() const;

  /// Runs `ergond COMMAND --data DATA ARGS…`.
  ProcessResult admin(const std::string& command, const std::vector<std::string>& args = {}) const;
  /// `ergond enrol`; returns the token.
  std::string enrol(const std::string& role, const std::string& directorate,
                    const std::string& name) const;
  /// `ergond verify --json`, which must succeed: {"rows", "digest"}.
  json verify() const;
  /// `ergond devices --json`.
  json devices() const;
  /// The high-water mark of the enrolment whose token is `token`.
  std::uint64_t high_water_mark(const std::string& token) const;

  /// Enrols a device and makes a home for it under ROOT/NAME: `ergon init --server … --token …
  /// --fingerprint …` (the server must be running so the key is checked).
  Client add_client(const std::string& name, const std::string& role,
                    const std::string& directorate);
  /// Re-runs `ergon init` on an existing home with this server's current address.
  void repoint(const Client& client) const;

 private:
  std::filesystem::path root_, data_;
  std::string fingerprint_;
  std::optional<ChildProcess> process_;
  std::filesystem::path log_;
  int port_ = 0;
  int starts_ = 0;
};

/// Adds a planning client that imports the sample programme (20 proposals) and syncs it.
Client seed_programme(RunningServer& server);

/// Waits up to `timeout` for a child to end; SIGKILLs it after that. Returns its status and
/// whether it had to be killed.
std::pair<ExitStatus, bool> wait_or_kill(ChildProcess& child, std::chrono::milliseconds timeout);

/// The client's outbox: number of changes it ever made (its last device sequence).
std::uint64_t last_device_seq(const std::filesystem::path& home);
/// The client's pull cursor (last server log position applied).
std::uint64_t cursor_of(const std::filesystem::path& home);

/// Makes `count` remarks edits in-process on the home (LocalStore, the same code as `ergon
/// edit`), each to a proposal picked from `ids` with `random`, each value unique
/// (PREFIX-N). Records the last value per proposal in `last`. Returns how many changes
/// were queued.
std::size_t make_remarks_edits(const std::filesystem::path& home,
                               const std::vector<std::string>& ids, std::size_t count,
                               const std::string& prefix, std::mt19937_64& random,
                               std::map<std::string, std::string>& last);

}  // namespace ergon::testing::integration

#pragma once
// Running real processes from tests: run_process() starts a program, waits for it and returns
// its exit status with everything it wrote to stdout and stderr; ChildProcess starts one in the
// background so a test can kill it at a moment of its choosing (crash tests). POSIX only
// (fork/execve/waitpid). Not thread-safe: call from the test's thread.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace ergon::testing {

/// Changes to the inherited environment: a value sets the variable, nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

/// How a process ended: exited with `code`, or was ended by `signal`.
struct ExitStatus {
  bool exited = false;
  int code = -1;   // when exited
  int signal = 0;  // when killed by a signal
  bool ok() const { return exited && code == 0; }
};

struct ProcessResult {
  ExitStatus status;
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
  bool timed_out = false;
  /// The exit code, or 128 + signal like a shell, for assertions and messages.
  int exit_code() const { return status.exited ? status.code : 128 + status.signal; }
};

/// Runs `args[0]` (a path) with `args` as argv, stdin from /dev/null, and waits for it. A
/// process still running after `timeout` is killed with SIGKILL and `timed_out` is set.
ProcessResult run_process(const std::vector<std::string>& args, const EnvChanges& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A process started in the background; stdout and stderr go to `output` (appended), or to
/// /dev/null when `output` is empty. The destructor kills (SIGKILL) and reaps it if it still
/// runs. Move-only.
class ChildProcess {
 public:
  static ChildProcess spawn(const std::vector<std::string>& args,
                            const std::filesystem::path& output = {}, const EnvChanges& env = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  /// The status if the process has ended, without waiting.
  std::optional<ExitStatus> try_wait();
  /// Waits for the process to end.
  ExitStatus wait();
  /// Sends `signal` (unless it already ended) and waits: the status tells whether the signal
  /// ended it or it had exited on its own first.
  ExitStatus kill_and_wait(int signal);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

}  // namespace ergon::testing

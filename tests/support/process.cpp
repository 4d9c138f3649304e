#include "tests/support/process.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ergon::testing {
namespace {

// argv and envp as execve wants them, built before fork so the child only calls
// async-signal-safe functions.
struct ExecArgs {
  std::vector<std::string> arg_storage, env_storage;
  std::vector<char*> argv, envp;

  ExecArgs(const std::vector<std::string>& args, const EnvChanges& changes) : arg_storage(args) {
    if (args.empty()) throw std::invalid_argument("run_process: no program given");
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      auto name = entry.substr(0, entry.find('='));
      if (changes.find(name) == changes.end()) env_storage.push_back(std::move(entry));
    }
    for (const auto& [name, value] : changes)
      if (value) env_storage.push_back(name + "=" + *value);
    for (auto& a : arg_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

ExitStatus decode(int raw) {
  ExitStatus s;
  if (WIFEXITED(raw)) {
    s.exited = true;
    s.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.signal = WTERMSIG(raw);
  }
  return s;
}

ExitStatus wait_for(pid_t pid) {
  int raw = 0;
  while (waitpid(pid, &raw, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  return decode(raw);
}

// In the child after fork: point fd `target` at `fd`, or at /dev/null when fd < 0.
void redirect(int fd, int target) {
  if (fd < 0) fd = open("/dev/null", O_RDWR);
  if (fd >= 0 && fd != target) dup2(fd, target);
}

[[noreturn]] void exec_child(const ExecArgs& exec) {
  execve(exec.argv[0], exec.argv.data(), exec.envp.data());
  const char message[] = "run_process: execve failed\n";
  (void)!write(STDERR_FILENO, message, sizeof message - 1);
  _exit(127);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, const EnvChanges& env,
                          std::chrono::milliseconds timeout) {
  ExecArgs exec(args, env);
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    redirect(-1, STDIN_FILENO);
    redirect(out_pipe[1], STDOUT_FILENO);
    redirect(err_pipe[1], STDERR_FILENO);
    exec_child(exec);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[8192];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  result.status = wait_for(pid);
  return result;
}

ChildProcess ChildProcess::spawn(const std::vector<std::string>& args,
                                 const std::filesystem::path& output, const EnvChanges& env) {
  ExecArgs exec(args, env);
  int out_fd = -1;
  if (!output.empty()) {
    out_fd = open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) throw std::runtime_error("cannot open " + output.string());
  }
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    redirect(-1, STDIN_FILENO);
    redirect(out_fd, STDOUT_FILENO);
    redirect(out_fd, STDERR_FILENO);
    exec_child(exec);
  }
  if (out_fd >= 0) close(out_fd);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    kill(pid_, SIGKILL);
    int raw = 0;
    while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
  }
}

std::optional<ExitStatus> ChildProcess::try_wait() {
  if (status_) return status_;
  int raw = 0;
  pid_t done = waitpid(pid_, &raw, WNOHANG);
  if (done == pid_) status_ = decode(raw);
  return status_;
}

ExitStatus ChildProcess::wait() {
  if (!status_) status_ = wait_for(pid_);
  return *status_;
}

ExitStatus ChildProcess::kill_and_wait(int signal) {
  if (try_wait()) return *status_;
  kill(pid_, signal);  // a zombie (exited, not yet reaped) ignores it: wait() reports the exit
  return wait();
}

}  // namespace ergon::testing

#include "client/report/pdf_print.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/core/output_file.h"

extern char** environ;

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;

core::Result<std::filesystem::path> find_chromium() {
  if (const char* given = std::getenv("ERGON_CHROMIUM"); given && *given) {
    if (access(given, X_OK) == 0) return std::filesystem::path(given);
    return fail(ErrorCode::kNotFound,
                std::string("ERGON_CHROMIUM names ") + given + ", which is not an executable");
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      auto candidate = std::filesystem::path(dir) / name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  return fail(ErrorCode::kNotFound,
              "printing to PDF needs Chromium, which is not installed: run "
              "'apt-get install chromium' (or set ERGON_CHROMIUM to a Chrome binary), or write "
              "--format html and print that page");
}

// A folder of its own under the system's temporary folder, removed with the object.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ergon-pdf-XXXXXX").string();
    if (mkdtemp(pattern.data())) path = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

std::string tail_of(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return text.size() > 600 ? "…" + text.substr(text.size() - 600) : text;
}

// Runs `argv` with stdout and stderr into `log`; its exit status, or -1 when it had to be
// killed at `timeout`.
core::Result<int> run(const std::vector<std::string>& args, const std::filesystem::path& log,
                      std::chrono::seconds timeout) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0)
    return fail(ErrorCode::kInternal, "cannot start " + args[0] + ": " + std::strerror(error));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return fail(ErrorCode::kInternal, "lost the Chromium process");
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

core::Status print_pdf(std::string_view html, const std::filesystem::path& out,
                       std::chrono::seconds timeout) {
  auto chromium = find_chromium();
  if (!chromium) return fail(chromium.error());
  ScratchDir scratch;
  if (scratch.path.empty())
    return fail(ErrorCode::kStorage, "cannot create a temporary folder for printing");
  auto page = scratch.path / "programme.html";
  std::ofstream(page, std::ios::binary) << html;
  auto pdf = scratch.path / "programme.pdf";
  auto log = scratch.path / "chromium.log";
  auto status =
      run({chromium->string(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + (scratch.path / "profile").string(), "--no-pdf-header-footer",
           "--print-to-pdf=" + pdf.string(), "file://" + page.string()},
          log, timeout);
  if (!status) return fail(status.error());
  if (*status != 0 || !std::filesystem::exists(pdf))
    return fail(ErrorCode::kInternal, *status < 0
                                          ? "Chromium did not finish printing within " +
                                                std::to_string(timeout.count()) + " s"
                                          : "Chromium could not print the report (exit " +
                                                std::to_string(*status) + "): " + tail_of(log));
  std::ifstream printed(pdf, std::ios::binary);
  std::stringstream bytes;
  bytes << printed.rdbuf();
  if (!printed) return fail(ErrorCode::kStorage, "cannot read Chromium's " + pdf.string());
  return core::write_file(out, bytes.str(), core::FileMode::kShared);
}

}  // namespace ergon::client

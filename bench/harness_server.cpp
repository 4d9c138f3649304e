#include "bench/harness_server.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::cerr << "sync_harness: " << what << "\n";
  std::exit(1);
}

// A field of /proc/PID/status ("VmRSS", "VmHWM") in MiB.
long status_mib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1)) / 1024;
  return 0;
}

}  // namespace

HarnessServer::HarnessServer(std::filesystem::path ergond, const std::filesystem::path& root)
    : ergond_(std::move(ergond)), data_(root / "server") {
  admin("init --data " + data_.string() + " --year 2024");
  fingerprint_ = admin("fingerprint --data " + data_.string());
  start();
}

void HarnessServer::start() {
  auto out = data_.parent_path() / "serve.out";
  address_.clear();
  pid_ = fork();
  if (pid_ < 0) die("cannot fork");
  if (pid_ == 0) {
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(ergond_.c_str(), ergond_.c_str(), "serve", "--data", data_.c_str(), "--listen",
          "127.0.0.1:0", "--max-connections", "4096", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 200 && address_.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("listening on ", 0) == 0) address_ = line.substr(13);
  }
  if (address_.empty()) die("ergond serve did not start; see " + out.string());
}

void HarnessServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

HarnessServer::~HarnessServer() { stop(); }

std::string HarnessServer::admin(const std::string& args) const {
  std::string command = ergond_.string() + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) die("cannot run " + command);
  std::string out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  if (pclose(pipe) != 0) die(command + " failed: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string HarnessServer::enrol(const std::string& role, const std::string& directorate) {
  std::string args = "enrol --data " + data_.string() + " --role " + role + " --name bench-" +
                     std::to_string(++enrolled_);
  if (!directorate.empty()) args += " --directorate " + directorate;
  return admin(args);
}

double HarnessServer::cpu_seconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long HarnessServer::rss_mib() const { return status_mib(pid_, "VmRSS"); }
long HarnessServer::peak_rss_mib() const { return status_mib(pid_, "VmHWM"); }

}  // namespace bench

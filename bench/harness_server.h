#pragma once
// A real `ergond` for the harness: a new data folder (init), devices enrolled through the admin
// commands, and `serve` on a free loopback port in a child process, stopped with SIGTERM.
// Exits the harness with the reason when any step fails.

#include <filesystem>
#include <string>

#include <sys/types.h>

namespace bench {

class HarnessServer {
 public:
  HarnessServer(std::filesystem::path ergond, const std::filesystem::path& root);
  HarnessServer(const HarnessServer&) = delete;
  HarnessServer& operator=(const HarnessServer&) = delete;
  ~HarnessServer();

  /// Serves the data folder (the constructor does); stop() ends it with SIGTERM. Between the
  /// two the folder may be written in process (bench/harness_programme.h).
  void start();
  void stop();
  const std::filesystem::path& data() const { return data_; }

  /// A token (DEVICE.SECRET) for a new device of `role` (and `directorate`).
  std::string enrol(const std::string& role, const std::string& directorate);
  const std::string& address() const { return address_; }
  const std::string& fingerprint() const { return fingerprint_; }
  /// CPU seconds (user + system) the serving process has used so far.
  double cpu_seconds() const;
  /// Its resident memory now and at its peak, in MiB.
  long rss_mib() const;
  long peak_rss_mib() const;

 private:
  std::string admin(const std::string& args) const;

  std::filesystem::path ergond_, data_;
  std::string address_, fingerprint_;
  pid_t pid_ = -1;
  int enrolled_ = 0;
};

}  // namespace bench

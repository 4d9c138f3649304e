#pragma once
// ergond's backup, restore and status commands: the command-line side of server/backup.

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "shared/core/result.h"

namespace ergon::server::admin {

using Action = std::function<core::Status()>;

struct BackupOptions {
  std::string data, out, into, from, passphrase_file;
  std::string bundle_in, bundle_out;
  std::size_t keep = 0;
  double max_backup_age_hours = 30;
  std::string fingerprint;       // restore: the server key a plain backup must hold
  bool unauthenticated = false;  // restore: accept a plain backup without that check
  bool encrypt = false;
  bool json = false;
  bool unhealthy = false;  // set by status: main exits 1
};

/// `ergond status`: prints the health figures; sets o.unhealthy with the reasons printed.
core::Status run_status(BackupOptions& o);

/// Adds `bundle apply`.
void add_bundle_command(CLI::App& app, BackupOptions& o, Action& action);

/// Adds `backup`, `restore` and `status`; the chosen one's Action is stored in `action`.
void add_backup_commands(CLI::App& app, BackupOptions& o, Action& action);

}  // namespace ergon::server::admin

// ergond status: what monitoring needs to know of a server folder, and a verdict in the exit
// code. Reads the store like any admin command, so it works while the server runs.

#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "server/admin/backup_commands.h"
#include "server/backup/data_lock.h"
#include "server/store/master_store.h"

namespace ergon::server::admin {

using core::fail;
using nlohmann::json;

namespace {

std::string age_text(std::int64_t ms) {
  auto hours = ms / 3'600'000;
  if (hours >= 48) return std::to_string(hours / 24) + " days ago";
  if (hours >= 1) return std::to_string(hours) + " h ago";
  return std::to_string(ms / 60'000) + " min ago";
}

}  // namespace

core::Status run_status(BackupOptions& o) {
  auto store = MasterStore::open(o.data);
  if (!store) return fail(store.error());
  auto health = store->health();
  if (!health) return fail(health.error());
  auto holder = backup::DataLock::holder(o.data);
  auto now = core::system_clock().now_ms();
  std::vector<std::string> problems;
  if (!holder) problems.push_back("no server is serving " + o.data);
  std::optional<std::int64_t> backup_age;
  if (!health->backup) {
    problems.push_back("no backup has been taken ('ergond backup --data " + o.data + " --into …')");
  } else {
    backup_age = now - health->backup->at_ms;
    if (static_cast<double>(*backup_age) > o.max_backup_age_hours * 3'600'000.0)
      problems.push_back("the last backup is " + age_text(*backup_age) + ", older than " +
                         std::to_string(static_cast<int>(o.max_backup_age_hours)) + " h");
  }
  o.unhealthy = !problems.empty();
  const auto& h = *health;
  if (o.json) {
    json backup = nullptr;
    if (h.backup)
      backup = {{"seq", h.backup->seq},
                {"taken_ms", h.backup->at_ms},
                {"age_ms", *backup_age},
                {"file", h.backup->file}};
    std::cout << json{{"healthy", problems.empty()},
                      {"problems", problems},
                      {"serving", holder.has_value()},
                      {"pid", holder ? json(*holder) : json(nullptr)},
                      {"server_id", store->info().server_id},
                      {"epoch", store->info().epoch},
                      {"log_seq", h.log_seq},
                      {"store_bytes", h.log_bytes},
                      {"last_backup", backup},
                      {"open_conflicts", h.open_conflicts},
                      {"open_flags", h.open_flags},
                      {"devices", h.devices}}
                     .dump(2)
              << "\n";
    return {};
  }
  std::cout << "serving:      " << (holder ? "yes (process " + std::to_string(*holder) + ")" : "no")
            << "\n"
            << "log:          " << h.log_seq << " rows, epoch " << store->info().epoch << ", "
            << h.log_bytes / 1024 << " KiB on disk\n"
            << "last backup:  "
            << (h.backup ? age_text(*backup_age) + ", covers row " + std::to_string(h.backup->seq) +
                               (h.backup->file.empty() ? "" : " (" + h.backup->file + ")")
                         : std::string("never"))
            << "\n"
            << "conflicts:    " << h.open_conflicts << " open\n"
            << "flags:        " << h.open_flags << " open\n"
            << "devices:      " << h.devices << " enrolled\n";
  for (const auto& p : problems) std::cout << "UNHEALTHY: " << p << "\n";
  if (problems.empty()) std::cout << "healthy\n";
  return {};
}

}  // namespace ergon::server::admin

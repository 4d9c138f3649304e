#include "server/admin/backup_commands.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server/backup/backup_service.h"
#include "server/backup/data_lock.h"
#include "server/store/master_store.h"

namespace ergon::server::admin {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

constexpr const char* kPassphraseEnv = "ERGON_BACKUP_PASSPHRASE";

// The passphrase from --passphrase-file (its first line) or ERGON_BACKUP_PASSPHRASE; nullopt
// when neither is given.
core::Result<std::optional<std::string>> passphrase(const BackupOptions& o) {
  std::string text;
  if (!o.passphrase_file.empty()) {
    std::ifstream in(o.passphrase_file);
    if (!in)
      return fail(ErrorCode::kNotFound, "cannot read the passphrase file " + o.passphrase_file);
    std::getline(in, text);
  } else if (const char* env = std::getenv(kPassphraseEnv)) {
    text = env;
  } else {
    return std::optional<std::string>{};
  }
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return fail(ErrorCode::kInvalidArgument, "the backup passphrase is empty");
  return std::optional(text);
}

std::string megabytes(std::uintmax_t bytes) {
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return out.str();
}

core::Status run_backup(const BackupOptions& o) {
  if (o.out.empty() == o.into.empty())
    return fail(ErrorCode::kUsage, "give either --out FILE or --into FOLDER");
  auto secret = passphrase(o);
  if (!secret) return fail(secret.error());
  if (o.encrypt && !*secret)
    return fail(ErrorCode::kUsage, std::string("--encrypt needs a passphrase: --passphrase-file "
                                               "FILE (its first line), or ") +
                                       kPassphraseEnv);
  std::optional<std::string> key = o.encrypt ? *secret : std::nullopt;
  std::filesystem::path out = o.out;
  std::error_code ec;
  if (!o.out.empty() && std::filesystem::exists(out, ec))
    return fail(ErrorCode::kAlreadyExists, o.out +
                                               " exists: a backup never overwrites a file "
                                               "(choose another name, or use --into FOLDER)");
  if (!o.into.empty()) {
    std::filesystem::create_directories(o.into, ec);
    if (ec) return fail(ErrorCode::kStorage, "cannot create " + o.into + ": " + ec.message());
    out = backup::backup_name_in(o.into, core::system_clock().now_ms());
  }
  auto taken = backup::take_backup(o.data, out, key);
  if (!taken) return fail(taken.error());
  std::vector<std::filesystem::path> removed;
  if (!o.into.empty() && o.keep > 0) {
    auto pruned = backup::prune_backups(o.into, o.keep);
    if (!pruned) return fail(pruned.error());
    removed = *pruned;
  }
  if (o.json) {
    json gone = json::array();
    for (const auto& p : removed) gone.push_back(p.string());
    std::cout << json{{"file", taken->file.string()},
                      {"server_id", taken->server_id},
                      {"epoch", taken->epoch},
                      {"seq", taken->seq},
                      {"taken_ms", taken->at_ms},
                      {"bytes", taken->bytes},
                      {"encrypted", taken->is_encrypted},
                      {"removed", gone}}
                     .dump(2)
              << "\n";
    return {};
  }
  std::cout << "backed up " << o.data << " to " << taken->file.string() << "\n"
            << "  log up to " << taken->epoch << "." << taken->seq << ", "
            << megabytes(taken->bytes) << (taken->is_encrypted ? ", encrypted" : "")
            << ", mode 0600 (it holds the server's private key)\n";
  for (const auto& p : removed) std::cout << "  removed the older " << p.string() << "\n";
  return {};
}

core::Status run_restore(const BackupOptions& o) {
  auto secret = passphrase(o);
  if (!secret) return fail(secret.error());
  backup::RestoreTrust trust;
  if (!o.fingerprint.empty()) trust.fingerprint = o.fingerprint;
  trust.unauthenticated = o.unauthenticated;
  auto r = backup::restore_backup(o.data, o.from, *secret, trust);
  if (!r) return fail(r.error());
  if (o.json) {
    std::cout << json{{"server_id", r->server_id},
                      {"from_epoch", r->from_epoch},
                      {"epoch", r->epoch},
                      {"backup_seq", r->backup_seq},
                      {"backup_ms", r->backup_ms},
                      {"replaced_seq", r->replaced_seq},
                      {"replaced_into", r->replaced_into.string()},
                      {"enrolments_kept", r->enrolments_kept},
                      {"revocations_kept", r->revocations_kept}}
                     .dump(2)
              << "\n";
    return {};
  }
  std::cout << "restored " << o.from << " into " << o.data << "\n"
            << "  the backup of " << core::format_human(r->backup_ms) << " holds the log up to "
            << r->from_epoch << "." << r->backup_seq << "; the server goes on in epoch " << r->epoch
            << "\n";
  if (!r->replaced_into.empty())
    std::cout << "  the store it replaced (log up to row " << r->replaced_seq << ") is kept in "
              << r->replaced_into.string() << "\n";
  if (r->enrolments_kept + r->revocations_kept > 0)
    std::cout << "  kept from it: " << r->enrolments_kept << " enrolments and "
              << r->revocations_kept << " revocations made after the backup\n";
  std::cout << "  start the server: each client re-sends, at its next sync, every change the "
               "backup does not hold\n";
  return {};
}

}  // namespace

void add_backup_commands(CLI::App& app, BackupOptions& o, Action& action) {
  auto* backup = app.add_subcommand(
      "backup", "Back up the store, key and certificate to one file, while the server runs");
  backup->add_option("--data", o.data, "the server's data folder")->required();
  backup->add_option("--out", o.out, "the backup file to write (never overwritten)");
  backup->add_option("--into", o.into,
                     "a folder: writes ergond-YYYYMMDD-HHMMSS.backup there (UTC) instead of --out");
  backup->add_option("--keep", o.keep, "with --into: keep only the newest N backups there");
  backup->add_flag("--encrypt", o.encrypt,
                   "encrypt with a passphrase (scrypt, AES-256-GCM): --passphrase-file or "
                   "ERGON_BACKUP_PASSPHRASE");
  backup->add_option("--passphrase-file", o.passphrase_file,
                     "a file whose first line is the passphrase");
  backup->add_flag("--json", o.json, "print the backup's file, position and size as JSON");
  backup->footer(
      R"(The file has mode 0600: it holds the server's private key. The server records the
log row the backup covers and tells clients in its welcome.
Example:  ergond backup --data /var/lib/ergon --into /var/lib/ergon/backups --keep 14)");
  backup->callback([&o, &action] { action = [&o] { return run_backup(o); }; });

  auto* restore = app.add_subcommand(
      "restore", "Restore a backup under a new epoch (refused while a server runs on --data)");
  restore->add_option("--data", o.data, "the server's data folder")->required();
  restore->add_option("--from", o.from, "the backup file")->required()->check(CLI::ExistingFile);
  restore->add_option("--passphrase-file", o.passphrase_file,
                      "for an encrypted backup: a file whose first line is the passphrase "
                      "(or ERGON_BACKUP_PASSPHRASE)");
  restore->add_option("--fingerprint", o.fingerprint,
                      "the server's fingerprint as printed at init (SHA256:…): a plain backup "
                      "must hold that server's key");
  restore->add_flag("--unauthenticated", o.unauthenticated,
                    "restore a plain backup whose server key nothing vouches for");
  restore->add_flag("--json", o.json, "print what was restored as JSON");
  restore->footer(R"(The store it replaces is kept in DATA/replaced-TIME/. The new epoch is written
into the log, so the audit chain shows the rewind; clients that meet it re-send every change the
backup lacks (acknowledged ones too), and nothing anyone saved is lost.
Whose backup: an encrypted one is proven by its passphrase. A plain one carries only a hash
that anyone can recompute, so its server key must be the one this folder holds, or the one
--fingerprint names when the folder was lost; with neither it is refused (--unauthenticated
takes it as it is).
Examples:
  ergond restore --data /var/lib/ergon --from /var/lib/ergon/backups/ergond-20261128-023000.backup
  ergond restore --data /var/lib/ergon --from ergond-20261128-023000.backup --fingerprint SHA256:…)");
  restore->callback([&o, &action] { action = [&o] { return run_restore(o); }; });

  auto* status = app.add_subcommand(
      "status", "Health check: serving or not, last backup and its age, log size, open work");
  status->add_option("--data", o.data, "the server's data folder")->required();
  status->add_option("--max-backup-age", o.max_backup_age_hours,
                     "hours after which the last backup counts as too old (default 30)");
  status->add_flag("--json", o.json, "print the figures as JSON");
  status->footer(
      R"(Exit code 0 when healthy; 1 when not (no server holds the folder, no backup, or the
last one is too old), with the reasons; 5 when the store is damaged.
Example:  ergond status --data /var/lib/ergon --json)");
  status->callback([&o, &action] { action = [&o] { return run_status(o); }; });
}

}  // namespace ergon::server::admin

#pragma once
// The `ergon` commands. Each file registers its subcommands on the app; parsing and help text
// live here, the work is done by client/store and client/report. A command's action runs after
// parsing and returns a Status that main() turns into a message and an exit code.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/store/local_store.h"
#include "client/sync/server_query.h"
#include "client/sync/sync_session.h"
#include "shared/core/result.h"
#include "shared/model/fields.h"

namespace ergon::client::cli {

struct Context {
  std::string home_flag;                 // --home, accepted before or after the command
  std::function<core::Status()> action;  // set by the chosen subcommand
  std::filesystem::path home() const { return resolve_home(home_flag); }
  core::Result<LocalStore> open_store() const { return LocalStore::open(home()); }
};

void add_init_command(CLI::App& app, Context& ctx);
void add_edit_commands(CLI::App& app, Context& ctx);      // add, edit, submit, withdraw, decide
void add_read_commands(CLI::App& app, Context& ctx);      // show, list, status
void add_transfer_commands(CLI::App& app, Context& ctx);  // import, export
void add_report_command(CLI::App& app, Context& ctx);
void add_sync_commands(CLI::App& app, Context& ctx);   // sync, conflicts, resolve, dismiss, resend
void add_money_commands(CLI::App& app, Context& ctx);  // envelope set, envelopes, flags, flag ack
void add_audit_commands(CLI::App& app, Context& ctx);  // history, audit log, audit verify
void add_stage_commands(CLI::App& app, Context& ctx);  // stage advance/reopen/close, stages
void add_diff_command(CLI::App& app, Context& ctx);
void add_year_commands(CLI::App& app, Context& ctx);    // year start
void add_bundle_commands(CLI::App& app, Context& ctx);  // bundle export, bundle import

/// A year's programme as the server holds it at POINT: `current` (the master now), a frozen
/// stage (draft: the latest draft), or a date or time (core::parse_time's forms).
core::Result<RemoteProgramme> programme_at(LocalStore& store, int year, const std::string& point);

/// A stage's checkpoint as `ergond audit verify --head` takes it: EPOCH.SEQ:HEX.
std::string checkpoint_text(const wire::StageRecord& record);

/// FIELD=VALUE arguments, split at the first '='. A usage error names the bad argument.
/// A group's values for people: money the Greek way (1.500.000,00), the rest as stored.
std::string group_text(const model::FieldValues& values);

core::Result<model::FieldValues> parse_assignments(const std::vector<std::string>& args);

/// A sync's counts as `ergon sync --json` prints them (bundle import prints the same keys).
nlohmann::json sync_report_json(const SyncReport& r);

/// Writes `bytes` to `path` through a temporary file and a rename, or to stdout for "-".
core::Status write_output(const std::string& path, std::string_view bytes);

}  // namespace ergon::client::cli

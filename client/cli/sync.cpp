#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/proposal_json.h"
#include "client/sync/sync_session.h"
#include "shared/core/clock.h"
#include "shared/core/numbers.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

void print_report(const SyncReport& r, bool as_json) {
  if (as_json) {
    std::cout << json{{"sent", r.sent},
                      {"accepted", r.accepted},
                      {"conflicts", r.conflicts},
                      {"rejected", r.rejected},
                      {"duplicates", r.duplicates},
                      {"received", r.received},
                      {"requeued", r.requeued},
                      {"bootstrapped", r.bootstrapped},
                      {"cursor", r.cursor},
                      {"digest", r.digest}}
                     .dump(2)
              << std::endl;
    return;
  }
  std::cout << "sent " << r.sent << " (accepted " << r.accepted << ", conflicts " << r.conflicts
            << ", rejected " << r.rejected
            << (r.duplicates ? ", already known " + std::to_string(r.duplicates) : "")
            << "), received " << r.received << (r.bootstrapped ? " (fresh copy)" : "")
            << "; up to date at " << r.cursor << ", digest " << r.digest.substr(0, 16)
            << " matches the server" << std::endl;
  if (r.conflicts > 0)
    std::cout << "conflicts were parked for a person to settle: see 'ergon conflicts'" << std::endl;
  if (r.rejected > 0)
    std::cout << "rejected changes and their reasons: see 'ergon status'" << std::endl;
}

// A group's values for scripts: the domain's JSON form (money in cents, funding as a list).
json group_json(const model::FieldValues& values) {
  model::Proposal shown;
  if (!model::apply_values(shown, values)) return json(values);
  auto all = to_json(shown);
  json out = json::object();
  for (const auto& [name, value] : values) out[name] = all[name];
  return out;
}

struct SyncCommandOptions {
  bool json = false, watch = false;
  int interval = 30;
};

// Runs until the process is stopped: a failed sync is reported and retried, never fatal.
core::Status sync_forever(LocalStore& store, const SyncOptions& options,
                          const SyncCommandOptions& opts) {
  std::mt19937 rng(std::random_device{}());
  int failures = 0;
  for (;;) {
    auto report = sync_once(store, options);
    auto now = core::format_utc(core::system_clock().now_ms());
    int wait = opts.interval;
    if (report) {
      failures = 0;
      std::cout << now << " ";
      print_report(*report, opts.json);
    } else {
      ++failures;
      // Exponential backoff capped at 5 minutes, with jitter so clients do not return together.
      int backoff = std::min(300, opts.interval * (1 << std::min(failures, 4)));
      wait = backoff / 2 + static_cast<int>(rng() % static_cast<unsigned>(backoff / 2 + 1));
      auto pending = store.outbox(true);
      std::cerr << now << " sync failed: " << report.error().message << "; "
                << (pending ? pending->size() : 0) << " changes pending; retrying in " << wait
                << " s" << std::endl;
    }
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
}

core::Status run_sync(const SyncCommandOptions& opts, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  SyncOptions options;
  options.progress = [](const std::string& line) { std::cerr << "sync: " << line << std::endl; };
  if (opts.watch) return sync_forever(*store, options, opts);
  auto report = sync_once(*store, options);
  if (!report) return core::fail(report.error());
  print_report(*report, opts.json);
  return {};
}

void add_sync_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<SyncCommandOptions>();
  auto* cmd =
      app.add_subcommand("sync", "Send the changes made offline and receive everyone else's");
  cmd->add_flag("--json", opts->json, "print the counts as JSON");
  cmd->add_flag("--watch", opts->watch,
                "keep syncing; after a failure, retry with backoff and jitter");
  cmd->add_option("--interval", opts->interval, "seconds between syncs with --watch (default 30)");
  cmd->footer(
      R"(Exit code 0 also when conflicts were parked (see 'ergon conflicts'); 4 when the server cannot
be reached or refuses the token; 5 when its key or identity does not match what this client pinned.
Nothing is lost when a sync fails: the next one continues where it stopped.
Examples:  ergon sync        ergon sync --json        ergon sync --watch --interval 60)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_sync(*opts, ctx); };
  });
}

core::Status run_conflicts(bool as_json, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto list = store->conflicts();
  if (!list) return core::fail(list.error());
  json out = json::array();
  for (const auto& c : *list) {
    if (c.status != ConflictStatus::kOpen) continue;
    model::FieldValues master;
    if (auto id = core::ProposalId::parse(c.entity); id)
      if (auto p = store->get(*id); p) master = model::group_values(*p, c.group);
    json incoming = json::array();
    for (const auto& in : c.incoming)
      incoming.push_back({{"change_id", in.change_id},
                          {"device_id", in.device_id.hex()},
                          {"user", in.user},
                          {"client_time", core::format_utc(in.client_time_ms)},
                          {"values", group_json(in.values)}});
    std::string conflict_id = std::to_string(c.id.epoch) + "." + std::to_string(c.id.seq);
    out.push_back({{"id", conflict_id},
                   {"proposal", c.entity},
                   {"group", c.group},
                   {"master", group_json(master)},
                   {"incoming", incoming}});
    if (as_json) continue;
    std::cout << "conflict " << conflict_id << "  proposal " << c.entity.substr(0, 8) << "  group "
              << c.group << "\n  master:   " << group_text(master) << "\n";
    for (const auto& in : c.incoming)
      std::cout << "  incoming: " << group_text(in.values) << "\n            by "
                << (in.user.empty() ? "(no name)" : in.user) << " on device "
                << in.device_id.hex().substr(0, 8) << " at " << core::format_utc(in.client_time_ms)
                << "\n";
  }
  if (as_json)
    std::cout << out.dump(2) << "\n";
  else if (out.empty())
    std::cout << "no open conflicts\n";
  return {};
}

struct ResolveOptions {
  std::string conflict;
  std::string take;
  std::vector<std::string> values;
};

core::Status run_resolve(const ResolveOptions& opts, const Context& ctx) {
  if (opts.take.empty() == opts.values.empty())
    return core::fail(core::ErrorCode::kUsage,
                      "resolve needs either --take master|incoming|CHANGE or --value FIELD=VALUE…");
  Resolution how{opts.take, {}};
  if (!opts.values.empty()) {
    auto values = parse_assignments(opts.values);
    if (!values) return core::fail(values.error());
    how.values = std::move(*values);
  }
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto settled = store->resolve(opts.conflict, how);
  if (!settled) return core::fail(settled.error());
  std::cout << "conflict " << opts.conflict << " settled ("
            << (opts.take == "master" ? "the master's values kept" : "values chosen")
            << "); the resolution waits to be synchronised\n";
  return {};
}

void add_resolve_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ResolveOptions>();
  auto* cmd = app.add_subcommand("resolve", "Settle a parked conflict (see 'ergon conflicts')");
  cmd->add_option("CONFLICT", opts->conflict, "the conflict's id, as 'ergon conflicts' prints it")
      ->required();
  cmd->add_option("--take", opts->take,
                  "master (keep the master's values), incoming (the one parked change) or a "
                  "parked change's id");
  cmd->add_option("--value", opts->values, "FIELD=VALUE of the conflict's group instead");
  cmd->footer(R"(Planning settles any conflict, a directorate those on its own proposals, budget
those on money. A resolution is a change like an edit: it works offline, syncs, is logged
with who settled it, and closes the conflict on every client.
Examples:
  ergon resolve 1.57 --take master
  ergon resolve 1.57 --take incoming
  ergon resolve 1.57 --value allocation=250.000,00 --value funding=1099)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_resolve(*opts, ctx); };
  });
}

void add_conflicts_command(CLI::App& app, Context& ctx) {
  auto conflicts_json = std::make_shared<bool>(false);
  auto* conflicts = app.add_subcommand(
      "conflicts", "List open conflicts: the master's values and each parked one");
  conflicts->add_flag("--json", *conflicts_json, "print a JSON array");
  conflicts->callback([&ctx, conflicts_json] {
    ctx.action = [&ctx, conflicts_json]() -> core::Status {
      return run_conflicts(*conflicts_json, ctx);
    };
  });
}

void add_dismiss_command(CLI::App& app, Context& ctx) {
  auto change = std::make_shared<std::string>();
  auto* dismiss =
      app.add_subcommand("dismiss", "Drop a rejected change from the list (its number stays used)");
  dismiss
      ->add_option("CHANGE", *change,
                   "the change: its number, or DEVICE:NUMBER as 'ergon status' shows")
      ->required();
  dismiss->footer("Example:  ergon dismiss 17");
  dismiss->callback([&ctx, change] {
    ctx.action = [&ctx, change]() -> core::Status {
      auto text = *change;
      if (auto colon = text.rfind(':'); colon != std::string::npos) text = text.substr(colon + 1);
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        return core::fail(core::ErrorCode::kUsage,
                          "'" + *change + "' is not a change number; see 'ergon status'");
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto seq = core::parse_number<std::uint64_t>(text, "change number");
      if (!seq) return core::fail(core::ErrorCode::kUsage, seq.error().message);
      ERGON_TRY(store->dismiss(*seq));
      std::cout << "dismissed change " << text << "\n";
      return {};
    };
  });
}

}  // namespace

void add_sync_commands(CLI::App& app, Context& ctx) {
  add_sync_command(app, ctx);
  add_conflicts_command(app, ctx);
  add_resolve_command(app, ctx);
  add_dismiss_command(app, ctx);
}

}  // namespace ergon::client::cli

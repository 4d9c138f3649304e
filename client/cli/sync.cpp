#include <chrono>
#include <iostream>
#include <random>
#include <set>
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

// What waits for a person after a sync: conflicts open (by id) and rejected new proposals kept.
struct Standing {
  std::set<std::string> open_conflicts;
  std::size_t kept_rejected = 0;
};

Standing standing(LocalStore& store) {
  Standing s;
  if (auto conflicts = store.conflicts(); conflicts)
    for (const auto& c : *conflicts)
      if (c.status == ConflictStatus::kOpen)
        s.open_conflicts.insert(changelog::conflict_id_text(c.id));
  if (auto held = store.held_creates(); held) s.kept_rejected = held->size();
  return s;
}

void print_report(const SyncReport& r, const Standing& before, const Standing& after,
                  bool as_json) {
  std::size_t new_conflicts = 0;
  for (const auto& id : after.open_conflicts)
    if (!before.open_conflicts.contains(id)) ++new_conflicts;
  if (as_json) {
    auto out = sync_report_json(r);
    out["new_conflicts"] = new_conflicts;
    out["open_conflicts"] = after.open_conflicts.size();
    out["kept_rejected"] = after.kept_rejected;
    std::cout << out.dump(2) << std::endl;
    return;
  }
  std::cout << "sent " << r.sent << " (accepted " << r.accepted << ", conflicts " << r.conflicts
            << ", rejected " << r.rejected
            << (r.duplicates ? ", already known " + std::to_string(r.duplicates) : "")
            << "), received " << r.received << (r.bootstrapped ? " (fresh copy)" : "")
            << "; up to date at " << r.cursor << ", digest " << r.digest.substr(0, 16)
            << " matches the server" << std::endl;
  if (!after.open_conflicts.empty())
    std::cout << new_conflicts << (new_conflicts == 1 ? " new conflict, " : " new conflicts, ")
              << after.open_conflicts.size()
              << " open, waiting for a person to settle them: see 'ergon conflicts'" << std::endl;
  if (r.rejected > 0)
    std::cout << "rejected changes and their reasons: see 'ergon status'" << std::endl;
  if (after.kept_rejected > 0)
    std::cout << after.kept_rejected
              << (after.kept_rejected == 1 ? " new proposal was rejected and stays"
                                           : " new proposals were rejected and stay")
              << " in your list, marked: fix and send again with 'ergon resend ID FIELD=VALUE…', "
                 "or drop with 'ergon dismiss ID'"
              << std::endl;
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
    auto before = standing(store);
    auto report = sync_once(store, options);
    auto now = core::format_human(core::system_clock().now_ms());
    int wait = opts.interval;
    if (report) {
      failures = 0;
      std::cout << now << " ";
      print_report(*report, before, standing(store), opts.json);
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
  auto before = standing(*store);
  auto report = sync_once(*store, options);
  if (!report) return core::fail(report.error());
  print_report(*report, before, standing(*store), opts.json);
  // A script must notice a refusal: the sync itself worked, but not everything sent landed.
  if (report->rejected > 0)
    return core::fail(core::ErrorCode::kInvalidArgument,
                      std::to_string(report->rejected) +
                          (report->rejected == 1 ? " change sent was" : " changes sent were") +
                          " rejected by the server; 'ergon status' gives each reason (fix it "
                          "and 'ergon resend', or 'ergon dismiss')");
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
      R"(Exit code 0 also when conflicts were parked (see 'ergon conflicts'); 3 when the server
rejected a change sent (the counts still print; 'ergon status' gives the reasons); 4 when the
server cannot be reached or refuses the token; 5 when its key or identity does not match what this client pinned.
Nothing is lost when a sync fails: the next one continues where it stopped.
Examples:  ergon sync        ergon sync --json        ergon sync --watch --interval 60)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_sync(*opts, ctx); };
  });
}

json setter_json(const std::optional<MasterSetter>& who) {
  if (!who) return nullptr;
  return {{"device_id", who->device_id},
          {"user", who->user},
          {"client_time", who->at_ms ? json(core::format_utc(who->at_ms)) : json(nullptr)},
          {"log", changelog::conflict_id_text(who->revision)}};
}

std::string setter_text(const std::optional<MasterSetter>& who) {
  if (!who) return {};
  std::string line = "            set by " + (who->user.empty() ? "(no name)" : who->user) +
                     " on device " + who->device_id.substr(0, 8);
  if (who->at_ms) line += " at " + core::format_human(who->at_ms);
  return line + " (log " + changelog::conflict_id_text(who->revision) + ")\n";
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
    std::string title;
    if (auto id = core::ProposalId::parse(c.entity); id)
      if (auto p = store->get(*id); p) {
        master = model::group_values(*p, c.group);
        title = p->title;
      }
    json incoming = json::array();
    for (const auto& in : c.incoming)
      incoming.push_back({{"change_id", in.change_id},
                          {"device_id", in.device_id.hex()},
                          {"user", in.user},
                          {"client_time", core::format_utc(in.client_time_ms)},
                          {"values", group_json(in.values)}});
    std::string conflict_id = changelog::conflict_id_text(c.id);
    auto setter = store->master_setter(c.entity, c.group);
    if (!setter) return core::fail(setter.error());
    out.push_back({{"id", conflict_id},
                   {"proposal", c.entity},
                   {"title", title},
                   {"group", c.group},
                   {"master", group_json(master)},
                   {"master_set_by", setter_json(*setter)},
                   {"incoming", incoming}});
    if (as_json) continue;
    std::cout << "conflict " << conflict_id << "  proposal " << c.entity.substr(0, 8) << " «"
              << title << "»  group " << c.group << "\n  master:   " << group_text(master) << "\n"
              << setter_text(*setter);
    for (const auto& in : c.incoming)
      std::cout << "  incoming: " << group_text(in.values) << "\n            by "
                << (in.user.empty() ? "(no name)" : in.user) << " on device "
                << in.device_id.hex().substr(0, 8) << " at "
                << core::format_human(in.client_time_ms) << "\n";
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

void print_dropped(const OutboxEntry& e) {
  std::cout << "dismissed change " << e.change.device_seq << " (" << e.change.group << " of "
            << e.change.entity.key.substr(0, 8) << ", rejected: " << e.reason
            << ")\n  it said: " << group_text(changelog::field_values(e.change)) << "\n";
}

// A proposal id (8+ hex digits of one the client lists) or a change number.
core::Status run_dismiss(const std::string& given, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto text = given;
  if (auto colon = text.rfind(':'); colon != std::string::npos) text = text.substr(colon + 1);
  if (text.size() >= 8)
    if (auto id = store->resolve_id(text); id) {
      auto dropped = store->dismiss_proposal(*id);
      if (!dropped) return core::fail(dropped.error());
      for (const auto& e : *dropped) print_dropped(e);
      return {};
    }
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return core::fail(core::ErrorCode::kUsage, "'" + given +
                                                   "' is neither a change number nor a "
                                                   "proposal's id; see 'ergon status'");
  auto seq = core::parse_number<std::uint64_t>(text, "change number");
  if (!seq) return core::fail(core::ErrorCode::kUsage, seq.error().message);
  auto dropped = store->dismiss(*seq);
  if (!dropped) return core::fail(dropped.error());
  print_dropped(*dropped);
  return {};
}

void add_dismiss_command(CLI::App& app, Context& ctx) {
  auto change = std::make_shared<std::string>();
  auto* dismiss = app.add_subcommand(
      "dismiss", "Drop a rejected change, or a rejected new proposal, printing what it drops");
  dismiss
      ->add_option("CHANGE", *change,
                   "a change's number (or DEVICE:NUMBER) as 'ergon status' shows it, or the id of "
                   "a rejected new proposal (all its rejected changes)")
      ->required();
  dismiss->footer(R"(Its number stays used, so the device's numbering has no gap.
Examples:  ergon dismiss 17        ergon dismiss 3f9a12bc)");
  dismiss->callback([&ctx, change] {
    ctx.action = [&ctx, change]() -> core::Status { return run_dismiss(*change, ctx); };
  });
}

void add_resend_command(CLI::App& app, Context& ctx) {
  struct ResendOptions {
    std::string id;
    std::vector<std::string> fixes;
  };
  auto opts = std::make_shared<ResendOptions>();
  auto* cmd =
      app.add_subcommand("resend", "Fix a new proposal the server rejected and send it again");
  cmd->add_option("ID", opts->id, "the rejected proposal's id, or its first 8+ hex digits")
      ->required();
  cmd->add_option("FIELD=VALUE", opts->fixes, "fields to fix (those of 'ergon edit', and year)");
  cmd->footer(R"(Everything typed before is kept; the fixes are applied to it and the proposal is
queued again as new, to go with the next sync. The rejected changes are settled by it.
Examples:  ergon resend 3f9a12bc year=2024
           ergon resend 3f9a12bc area=KENTRO 'title=Ανάπλαση πλατείας')");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status {
      auto fixes = parse_assignments(opts->fixes);
      if (!fixes) return core::fail(fixes.error());
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto id = store->resolve_id(opts->id);
      if (!id) return core::fail(id.error());
      auto sent = store->resend(*id, *fixes);
      if (!sent) return core::fail(sent.error());
      std::cout << "queued proposal " << sent->id.hex().substr(0, 8) << " again (" << sent->year
                << "); it goes with the next 'ergon sync'\n";
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
  add_resend_command(app, ctx);
}

}  // namespace ergon::client::cli

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/programme_table.h"
#include "client/report/proposal_json.h"
#include "client/store/sync_state.h"
#include "shared/core/clock.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

void print_proposal(const model::Proposal& p, const model::ReferenceData& ref) {
  for (const auto& f : model::all_fields()) {
    std::string value = model::field_text(p, f.name, model::TextForm::kGreek);
    if (f.name == "decision_reason" && value.empty()) continue;
    if (f.name == "directorate")
      if (const auto* d = ref.directorate(value)) value += " — " + d->name_el;
    if (f.name == "area")
      if (const auto* a = ref.area(value)) value += " — " + a->name_el;
    if (f.name == "total_budget" || f.name == "paid_to_date" || f.name == "allocation")
      value += " €";
    std::cout << fit(f.label_el, 28) << " " << fit(f.name, 18) << " " << value << "\n";
  }
}

void add_show_command(CLI::App& app, Context& ctx) {
  struct ShowOptions {
    std::string id;
    bool json = false;
  };
  auto show_opts = std::make_shared<ShowOptions>();
  auto* show = app.add_subcommand("show", "Show every field of one proposal");
  show->add_option("ID", show_opts->id, "the proposal's id, or its first 8+ hex digits")
      ->required();
  show->add_flag("--json", show_opts->json, "print one JSON object (money in cents)");
  show->footer("Example:  ergon show 3f9a12bc --json");
  show->callback([&ctx, show_opts] {
    ctx.action = [&ctx, show_opts]() -> core::Status {
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto id = store->resolve_id(show_opts->id);
      if (!id) return core::fail(id.error());
      auto p = store->get(*id);
      if (!p) return core::fail(p.error());
      if (show_opts->json)
        std::cout << to_json(*p).dump(2) << "\n";
      else
        print_proposal(*p, store->reference());
      return {};
    };
  });
}

struct ListOptions {
  std::string search, directorate, state;
  int year = 0;
  bool json = false;
};

void print_proposal_table(const std::vector<model::Proposal>& proposals) {
  std::cout << fit("id", 8) << "  " << fit("Κ.Α.", 12) << " " << fit("Τίτλος", 56) << " "
            << fit("Διεύθ.", 6) << " " << fit("Πίστωση έτους", 17, true) << "  "
            << "Στάδιο\n";
  for (const auto& p : proposals)
    std::cout << p.id.hex().substr(0, 8) << "  "
              << fit(p.ka_code ? p.ka_code->canonical() : "—", 12) << " " << fit(p.title, 56) << " "
              << fit(p.directorate, 6) << " " << fit(p.allocation.greek_euro(), 17, true) << "  "
              << model::to_string(p.state) << "\n";
  std::cout << proposals.size() << (proposals.size() == 1 ? " proposal\n" : " proposals\n");
}

core::Status run_list(const ListOptions& opts, const Context& ctx) {
  ListFilter filter;
  filter.search = opts.search;
  filter.directorate = opts.directorate;
  if (!opts.state.empty()) {
    auto state = model::parse_enum<model::State>(opts.state);
    if (!state)
      return core::fail(core::ErrorCode::kUsage, "--state: " + state.error().message.substr(7));
    filter.state = *state;
  }
  if (opts.year != 0) filter.year = opts.year;
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto proposals = store->list(filter);
  if (!proposals) return core::fail(proposals.error());
  if (opts.json) {
    json out = json::array();
    for (const auto& p : *proposals) out.push_back(to_json(p));
    std::cout << out.dump(2) << "\n";
    return {};
  }
  print_proposal_table(*proposals);
  return {};
}

void add_list_command(CLI::App& app, Context& ctx) {
  auto list_opts = std::make_shared<ListOptions>();
  auto* list = app.add_subcommand("list", "List proposals, optionally filtered and searched");
  list->add_option("--search", list_opts->search,
                   "words to find in title and remarks, ignoring case and accents");
  list->add_option("--directorate", list_opts->directorate, "only this directorate (e.g. DTE)");
  list->add_option("--state", list_opts->state,
                   "only this state: draft, submitted, included, deferred, rejected, withdrawn");
  list->add_option("--year", list_opts->year, "only this programme year");
  list->add_flag("--json", list_opts->json, "print one JSON array (money in cents)");
  list->footer(R"(Examples:
  ergon list --search οδοποιια          (finds 'Αγροτική οδοποιία')
  ergon list --search 'ΠΛΑΤΕΙΑΣ ελευθεριας' --state draft
  ergon list --directorate DTE --json)");
  list->callback([&ctx, list_opts] {
    ctx.action = [&ctx, list_opts]() -> core::Status { return run_list(*list_opts, ctx); };
  });
}

// The outbox entries still to settle: pending ones wait to be sent, rejected ones wait for the
// person to read the reason and dismiss them.
struct OutboxSummary {
  std::size_t pending = 0, rejected = 0;
  json changes = json::array();
  std::size_t open_conflicts = 0;           // parked for a person: see `ergon conflicts`
  std::vector<std::string> over_committed;  // sources whose included allocations pass the envelope
};

OutboxSummary summarise_outbox(const std::vector<OutboxEntry>& outbox) {
  OutboxSummary s;
  for (const auto& e : outbox) {
    using client::OutboxStatus;
    if (e.status == OutboxStatus::kPending) ++s.pending;
    if (e.status == OutboxStatus::kRejected) ++s.rejected;
    if (e.status != OutboxStatus::kPending && e.status != OutboxStatus::kRejected) continue;
    s.changes.push_back({{"change_id", changelog::change_id(e.change)},
                         {"seq", e.change.device_seq},
                         {"entity", e.change.entity.key},
                         {"group", e.change.group},
                         {"status", client::to_string(e.status)},
                         {"reason", e.reason},
                         {"values", changelog::field_values(e.change)},
                         {"client_time", core::format_utc(e.change.client_time.wall_ms)}});
  }
  return s;
}

json status_as_json(LocalStore& store, const OutboxSummary& s, std::uint64_t cursor) {
  const auto& d = store.device();
  auto last_sync = store.last_sync_ms();
  auto last_error = store.last_sync_error();
  return json{
      {"home", store.home().string()},
      {"device_id", d.device_id.hex()},
      {"directorate", d.directorate},
      {"user", d.user},
      {"year", d.year},
      {"server", store.setting("server").empty() ? json(nullptr) : json(store.setting("server"))},
      {"role", merge::to_string(d.role)},
      {"last_sync", last_sync ? json(core::format_utc(*last_sync)) : json(nullptr)},
      {"last_error", last_error.empty() ? json(nullptr) : json(last_error)},
      {"cursor", cursor},
      {"pending", s.pending},
      {"rejected", s.rejected},
      {"changes", s.changes},
      {"open_conflicts", s.open_conflicts},
      {"over_committed", s.over_committed}};
}

void print_status(LocalStore& store, const OutboxSummary& s,
                  const std::vector<OutboxEntry>& outbox) {
  const auto& d = store.device();
  auto last_sync = store.last_sync_ms();
  auto last_error = store.last_sync_error();
  std::cout << "home:        " << store.home().string() << "\n"
            << "device:      " << d.device_id.hex() << "\n"
            << "directorate: " << (d.directorate.empty() ? "(none)" : d.directorate)
            << "   user: " << (d.user.empty() ? "(not stated)" : d.user) << "   year: " << d.year
            << "\n"
            << "server:      "
            << (store.setting("server").empty()
                    ? "none configured (working offline)"
                    : store.setting("server") + " as " + std::string(merge::to_string(d.role)))
            << "\n"
            << "last sync:   " << (last_sync ? core::format_utc(*last_sync) : "never") << "\n";
  if (!last_error.empty()) std::cout << "last error:  " << last_error << "\n";
  std::cout << "pending:     " << s.pending << (s.pending == 1 ? " change" : " changes")
            << " waiting to be synchronised\n";
  if (s.rejected > 0) {
    std::cout << "rejected:    " << s.rejected << "\n";
    for (const auto& e : outbox)
      if (e.status == client::OutboxStatus::kRejected)
        std::cout << "  " << changelog::change_id(e.change) << " " << e.change.group << ": "
                  << e.reason
                  << "\n    you typed: " << group_text(changelog::field_values(e.change)) << "\n";
  }
  if (s.open_conflicts > 0)
    std::cout << "conflicts:   " << s.open_conflicts
              << " open, waiting for a person to settle them (see 'ergon conflicts')\n";
  for (const auto& source : s.over_committed)
    std::cout << "warning:     funding source " << source
              << " is over-committed: its included allocations pass its envelope (see 'ergon "
                 "envelopes')\n";
}

core::Status run_status(bool as_json, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto outbox = store->outbox();
  if (!outbox) return core::fail(outbox.error());
  auto summary = summarise_outbox(*outbox);
  auto conflicts = store->conflicts();
  if (!conflicts) return core::fail(conflicts.error());
  for (const auto& c : *conflicts)
    if (c.status == ConflictStatus::kOpen) ++summary.open_conflicts;
  auto uses = store->envelope_uses(store->device().year);
  if (!uses) return core::fail(uses.error());
  for (const auto& u : *uses)
    if (u.is_over()) summary.over_committed.push_back(u.source);
  auto cursor = client::SyncState(*store).cursor();
  if (!cursor) return core::fail(cursor.error());
  if (as_json)
    std::cout << status_as_json(*store, summary, *cursor).dump(2) << "\n";
  else
    print_status(*store, summary, *outbox);
  return {};
}

void add_status_command(CLI::App& app, Context& ctx) {
  auto status_json = std::make_shared<bool>(false);
  auto* status = app.add_subcommand(
      "status", "Show this client: changes waiting to be synchronised, last sync");
  status->add_flag("--json", *status_json, "print one JSON object");
  status->footer(
      R"(Shows the server, the last sync and its error, the changes waiting to be sent, and the
changes the server rejected with its reasons (drop one with 'ergon dismiss').
Examples:  ergon status        ergon status --json)");
  status->callback([&ctx, status_json] {
    ctx.action = [&ctx, status_json]() -> core::Status { return run_status(*status_json, ctx); };
  });
}

}  // namespace

void add_read_commands(CLI::App& app, Context& ctx) {
  add_show_command(app, ctx);
  add_list_command(app, ctx);
  add_status_command(app, ctx);
}

}  // namespace ergon::client::cli

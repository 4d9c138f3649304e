#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/programme_report.h"
#include "client/report/proposal_json.h"
#include "client/store/sync_state.h"
#include "shared/changelog/log_entry.h"
#include "shared/core/clock.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

// What the view alone does not say about a proposal: the server rejected it (a new one, kept
// until resent or dismissed), or some of its fields are in an open conflict.
struct Marks {
  std::map<std::string, HeldCreate> held;                                // by proposal id
  std::map<std::string, std::map<std::string, std::string>> conflicted;  // id → group → conflict
};

core::Result<Marks> marks_of(LocalStore& store) {
  Marks marks;
  auto held = store.held_creates();
  if (!held) return core::fail(held.error());
  marks.held = std::move(*held);
  auto conflicts = store.conflicts();
  if (!conflicts) return core::fail(conflicts.error());
  for (const auto& c : *conflicts)
    if (c.status == ConflictStatus::kOpen)
      marks.conflicted[c.entity][c.group] = changelog::conflict_id_text(c.id);
  return marks;
}

json with_marks(const model::Proposal& p, const Marks& marks) {
  auto out = to_json(p);
  auto id = p.id.hex();
  auto held = marks.held.find(id);
  out["rejected_by_server"] = held == marks.held.end() ? json(nullptr)
                                                       : json{{"change", held->second.device_seq},
                                                              {"reason", held->second.reason}};
  json conflicts = json::array();
  if (auto it = marks.conflicted.find(id); it != marks.conflicted.end())
    for (const auto& [group, conflict] : it->second)
      conflicts.push_back({{"id", conflict}, {"group", group}});
  out["conflicts"] = conflicts;
  return out;
}

void print_proposal(const model::Proposal& p, const model::ReferenceData& ref, const Marks& marks) {
  auto id = p.id.hex();
  if (auto held = marks.held.find(id); held != marks.held.end())
    std::cout << "NOT ACCEPTED by the server (change " << held->second.device_seq
              << "): " << held->second.reason << "\n  fix and send again: ergon resend "
              << id.substr(0, 8) << " FIELD=VALUE…   or drop it: ergon dismiss " << id.substr(0, 8)
              << "\n";
  const std::map<std::string, std::string> none;
  auto conflicted = marks.conflicted.find(id);
  const auto& groups = conflicted == marks.conflicted.end() ? none : conflicted->second;
  for (const auto& f : model::all_fields()) {
    std::string value = model::field_text(p, f.name, model::TextForm::kGreek);
    if (f.name == "decision_reason" && value.empty()) continue;
    if (f.name == "directorate")
      if (const auto* d = ref.directorate(value)) value += " — " + d->name_el;
    if (f.name == "area")
      if (const auto* a = ref.area(value)) value += " — " + a->name_el;
    if (f.name == "total_budget" || f.name == "paid_to_date" || f.name == "allocation")
      value += " €";
    if (auto c = groups.find(std::string(f.group)); c != groups.end())
      value += "   ⚠ in conflict " + c->second + " (see 'ergon conflicts')";
    std::cout << fit(f.label_el, 28) << " " << fit(f.name, 18) << " " << value << "\n";
  }
}

// The proposal as the server held it at a stage or a moment.
core::Status show_as_of(LocalStore& store, const model::Proposal& now, const std::string& point,
                        bool as_json) {
  auto programme = programme_at(store, now.year, point);
  if (!programme) return core::fail(programme.error());
  auto it = std::find_if(programme->proposals.begin(), programme->proposals.end(),
                         [&](const model::Proposal& p) { return p.id == now.id; });
  auto label = programme->stage ? programme->stage->name() : point;
  if (it == programme->proposals.end())
    return core::fail(core::ErrorCode::kNotFound, "proposal " + now.id.hex().substr(0, 8) +
                                                      " was not in the programme of " +
                                                      std::to_string(now.year) + " at " + label);
  auto at = std::to_string(programme->at.epoch) + "." + std::to_string(programme->at.seq);
  if (as_json) {
    auto out = to_json(*it);
    out["as_of"] = {{"point", label}, {"log_row", at}};
    std::cout << out.dump(2) << "\n";
    return {};
  }
  std::cout << "As of " << label << " (log row " << at << ")\n";
  print_proposal(*it, store.reference(), Marks{});
  return {};
}

void add_show_command(CLI::App& app, Context& ctx) {
  struct ShowOptions {
    std::string id, as_of;
    bool json = false;
  };
  auto show_opts = std::make_shared<ShowOptions>();
  auto* show = app.add_subcommand("show", "Show every field of one proposal");
  show->add_option("ID", show_opts->id, "the proposal's id, or its first 8+ hex digits")
      ->required();
  show->add_flag("--json", show_opts->json, "print one JSON object (money in cents)");
  show->add_option("--as-of", show_opts->as_of,
                   "as the server held it at a stage (draft, approved, amendment-1 …) or a date "
                   "or time (2024-03-05T14:30)");
  show->footer(R"(Marks a field whose group is in an open conflict, and a new proposal the server
rejected (kept until you resend or dismiss it).
Example:  ergon show 3f9a12bc --json
          ergon show 3f9a12bc --as-of approved)");
  show->callback([&ctx, show_opts] {
    ctx.action = [&ctx, show_opts]() -> core::Status {
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto id = store->resolve_id(show_opts->id);
      if (!id) return core::fail(id.error());
      auto p = store->get(*id);
      if (!p) return core::fail(p.error());
      if (!show_opts->as_of.empty())
        return show_as_of(*store, *p, show_opts->as_of, show_opts->json);
      auto marks = marks_of(*store);
      if (!marks) return core::fail(marks.error());
      if (show_opts->json)
        std::cout << with_marks(*p, *marks).dump(2) << "\n";
      else
        print_proposal(*p, store->reference(), *marks);
      return {};
    };
  });
}

struct ListOptions {
  std::string search, directorate, state;
  int year = 0;
  bool json = false;
};

void print_proposal_table(const std::vector<model::Proposal>& proposals, const Marks& marks) {
  std::set<int> years;
  for (const auto& p : proposals) years.insert(p.year);
  bool show_year = years.size() > 1;  // one year is the usual case: no column for it
  std::cout << fit("id", 8) << "  " << (show_year ? "Έτος " : "") << fit("Κ.Α.", 12) << " "
            << fit("Τίτλος", 56) << " " << fit("Διεύθ.", 6) << " " << fit("Πίστωση έτους", 17, true)
            << "  Στάδιο\n";
  for (const auto& p : proposals) {
    auto id = p.id.hex();
    std::string state(model::to_string(p.state));
    if (marks.held.contains(id)) state += "  ✗ rejected by the server (ergon show)";
    if (marks.conflicted.contains(id)) state += "  ⚠ conflict";
    std::cout << id.substr(0, 8) << "  " << (show_year ? std::to_string(p.year) + " " : "")
              << fit(p.ka_code ? p.ka_code->canonical() : "—", 12) << " " << fit(p.title, 56) << " "
              << fit(p.directorate, 6) << " " << fit(p.allocation.greek_euro(), 17, true) << "  "
              << state << "\n";
  }
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
  auto marks = marks_of(*store);
  if (!marks) return core::fail(marks.error());
  if (opts.json) {
    json out = json::array();
    for (const auto& p : *proposals) out.push_back(with_marks(p, *marks));
    std::cout << out.dump(2) << "\n";
    return {};
  }
  print_proposal_table(*proposals, *marks);
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

// The chain head this client holds, as people copy it to `ergond audit verify --head`.
std::string held_head_text(LocalStore& store) {
  auto held = client::SyncState(store).held_head();
  if (!held || !*held) return {};
  return changelog::head_text((*held)->first, (*held)->second);
}

json status_as_json(LocalStore& store, const OutboxSummary& s, std::uint64_t cursor) {
  auto head = held_head_text(store);
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
      {"chain_head", head.empty() ? json(nullptr) : json(head)},
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
            << (!store.setting("server").empty()
                    ? store.setting("server") + " as " + std::string(merge::to_string(d.role))
                : !store.setting("token").empty() ? "none: syncs by bundle ('ergon bundle export')"
                                                  : "none configured (working offline)")
            << "\n"
            << "last sync:   " << (last_sync ? core::format_human(*last_sync) : "never") << "\n";
  if (auto head = held_head_text(store); !head.empty())
    std::cout << "chain head:  " << head
              << "  (the log as this client saw it; 'ergon audit verify')\n";
  if (!last_error.empty()) std::cout << "last error:  " << last_error << "\n";
  std::cout << "pending:     " << s.pending << (s.pending == 1 ? " change" : " changes")
            << " waiting to be synchronised\n";
  if (s.rejected > 0) {
    std::cout << "rejected:    " << s.rejected << "\n";
    for (const auto& e : outbox)
      if (e.status == client::OutboxStatus::kRejected)
        std::cout << "  " << changelog::change_id(e.change) << " " << e.change.group << ": "
                  << e.reason
                  << "\n    you typed: " << group_text(changelog::field_values(e.change)) << "\n"
                  << (e.change.group == changelog::kCreateGroup
                          ? "    kept in your list: fix and send again with 'ergon resend " +
                                e.change.entity.key.substr(0, 8) + " FIELD=VALUE…'\n"
                          : std::string());
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

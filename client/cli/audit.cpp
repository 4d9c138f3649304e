// history, audit log, audit verify: the audit as people ask it. The server answers from its log
// (it holds every device's changes); times on screen are local with their offset, UTC in JSON;
// money the Greek way on screen, cents in JSON.

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/proposal_json.h"
#include "client/store/sync_state.h"
#include "client/sync/server_query.h"
#include "shared/changelog/log_entry.h"
#include "shared/core/clock.h"
#include "shared/model/csv.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

struct AuditOptions {
  std::string id, field, since, until, device, format = "table", out;
  bool json = false;
};

json event_json(const wire::HistoryEvent& e) {
  json fields = json::array();
  for (const auto& f : e.fields())
    fields.push_back({{"field", f.name()},
                      {"old", field_value_json(f.name(), f.old_value())},
                      {"new", field_value_json(f.name(), f.new_value())}});
  auto position = [](const wire::Revision& r) {
    return std::to_string(r.epoch()) + "." + std::to_string(r.seq());
  };
  return {{"position", position(e.position())},
          {"kind", e.kind()},
          {"entity", e.entity()},
          {"group", e.group()},
          {"fields", fields},
          {"device", e.enrolment()},
          {"role", e.role()},
          {"directorate", e.directorate()},
          {"user", e.user()},
          {"client_time", core::format_utc(e.client_ms())},
          {"server_time", core::format_utc(e.server_ms())},
          {"reason", e.reason().empty() ? json(nullptr) : json(e.reason())},
          {"conflict", e.has_conflict() ? json(position(e.conflict())) : json(nullptr)},
          {"change_id", e.change_id()}};
}

void print_event(const wire::HistoryEvent& e, bool with_entity) {
  std::cout << core::format_human(e.server_ms()) << "  #" << e.position().seq() << "  " << e.kind();
  if (with_entity) std::cout << "  " << e.entity().substr(0, 8);
  std::cout << "\n    by " << (e.user().empty() ? "(no name stated)" : e.user()) << ", device "
            << e.enrolment().substr(0, 8) << " (" << e.role()
            << (e.directorate().empty() ? "" : " " + e.directorate()) << "), device clock "
            << core::format_human(e.client_ms()) << "\n";
  for (const auto& f : e.fields())
    std::cout << "    " << f.name() << ": " << field_value_text(f.name(), f.old_value()) << " → "
              << field_value_text(f.name(), f.new_value()) << "\n";
  if (!e.reason().empty()) std::cout << "    reason: " << e.reason() << "\n";
}

// The audit log for a Greek Excel: UTF-8 with a byte-order mark, ';' between cells, CRLF, one
// row per field changed, money the Greek way.
std::string events_csv(const std::vector<wire::HistoryEvent>& events) {
  constexpr char kSep = ';';
  std::string out = "\xEF\xBB\xBF";
  auto row = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i)
      out += (i ? std::string(1, kSep) : std::string()) + model::csv_cell(cells[i], kSep);
    out += "\r\n";
  };
  row({"Α/Α", "Ώρα διακομιστή", "Είδος", "Οντότητα", "Πεδίο", "Παλιά τιμή", "Νέα τιμή", "Συσκευή",
       "Ρόλος", "Διεύθυνση", "Χρήστης", "Ώρα συσκευής", "Αιτία"});
  for (const auto& e : events) {
    std::vector<std::pair<std::string, std::string>> changes;
    for (const auto& f : e.fields())
      changes.emplace_back(f.name(), field_value_text(f.name(), f.old_value()) + "\x1f" +
                                         field_value_text(f.name(), f.new_value()));
    if (changes.empty()) changes.emplace_back("", "\x1f");
    for (const auto& [field, both] : changes) {
      auto split = both.find('\x1f');
      row({std::to_string(e.position().seq()), core::format_local(e.server_ms()), e.kind(),
           e.entity(), field, both.substr(0, split), both.substr(split + 1), e.enrolment(),
           e.role(), e.directorate(), e.user(), core::format_local(e.client_ms()), e.reason()});
    }
  }
  return out;
}

core::Result<wire::HistoryRequest> query_of(const AuditOptions& o, LocalStore& store) {
  wire::HistoryRequest q;
  if (!o.id.empty()) {
    // A prefix of a proposal this client lists, or any whole id (one the master never held,
    // a rejected new proposal), or an envelope (YEAR:SOURCE) or flag (KIND:YEAR:KEY).
    auto id = store.resolve_id(o.id);
    bool is_whole_id = core::ProposalId::parse(o.id).has_value();
    if (!id && !is_whole_id && o.id.find(':') == std::string::npos) return core::fail(id.error());
    q.set_entity(id ? id->hex() : o.id);
  }
  q.set_field(o.field);
  q.set_device(o.device);
  if (!o.since.empty()) {
    auto t = core::parse_time(o.since);
    if (!t) return core::fail(core::ErrorCode::kUsage, "--since: " + t.error().message);
    q.set_since_ms(*t);
  }
  if (!o.until.empty()) {
    auto t = core::parse_time(o.until);
    if (!t) return core::fail(core::ErrorCode::kUsage, "--until: " + t.error().message);
    q.set_until_ms(*t);
  }
  return q;
}

core::Status run_history(const AuditOptions& o, const Context& ctx) {
  if (o.format != "table" && o.format != "csv")
    return core::fail(core::ErrorCode::kUsage, "--format is table or csv, not '" + o.format + "'");
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto query = query_of(o, *store);
  if (!query) return core::fail(query.error());
  auto events = fetch_history(*store, *query, [&](std::size_t n) {
    if (n >= 5000) std::cerr << "history: " << n << " events so far\r" << std::flush;
  });
  if (!events) return core::fail(events.error());
  if (o.format == "csv") return write_output(o.out.empty() ? "-" : o.out, events_csv(*events));
  if (o.json) {
    json out = json::array();
    for (const auto& e : *events) out.push_back(event_json(e));
    std::cout << out.dump(2) << "\n";
    return {};
  }
  for (const auto& e : *events) print_event(e, o.id.empty());
  std::cout << events->size() << (events->size() == 1 ? " event\n" : " events\n");
  return {};
}

void add_filters(CLI::App* cmd, AuditOptions& o) {
  cmd->add_option("--field", o.field, "only changes of this field (e.g. allocation)");
  cmd->add_option("--since", o.since, "from this date or time (2024-03-05, 2024-03-05T14:30)");
  cmd->add_option("--until", o.until, "before this date or time (a bare date: local midnight)");
  cmd->add_option("--device", o.device, "only this device: its id as 'ergond devices' prints it");
  cmd->add_flag("--json", o.json, "print a JSON array (times UTC, money in cents)");
}

core::Status run_verify(bool as_json, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto held = SyncState(*store).held_head();
  if (!held) return core::fail(held.error());
  auto report = verify_on_server(*store);
  if (!report) return core::fail(report.error());
  crypto::Digest head{};
  std::copy(report->head_hash().begin(), report->head_hash().end(), head.begin());
  auto head_text = changelog::head_text({report->head().epoch(), report->head().seq()}, head);
  if (as_json) {
    std::cout << json{{"ok", report->ok()},
                      {"problem", report->ok() ? json(nullptr) : json(report->problem())},
                      {"rows", report->rows()},
                      {"v1_rows", report->v1_rows()},
                      {"head", head_text},
                      {"held", *held ? json(changelog::head_text((*held)->first, (*held)->second))
                                     : json(nullptr)},
                      {"heads_checked", report->heads_checked()}}
                     .dump(2)
              << "\n";
  } else if (report->ok()) {
    std::cout << "the server's change log is intact: " << report->rows()
              << " rows chained, the master equals the log's accepted values ("
              << report->proposals() << " proposals, " << report->envelopes() << " envelopes)\n"
              << "its chain head: " << head_text << "\n"
              << (*held ? "this client's head " +
                              changelog::head_text((*held)->first, (*held)->second) + " is in it\n"
                        : std::string("this client holds no head yet (sync first)\n"));
  }
  if (!report->ok())
    return core::fail(core::ErrorCode::kCorrupt, "the audit failed: " + report->problem());
  return {};
}

}  // namespace

void add_audit_commands(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<AuditOptions>();
  auto* history =
      app.add_subcommand("history", "The full timeline of a proposal, from the server's log");
  history->add_option("ID", opts->id, "the proposal's id, or its first 8+ hex digits")->required();
  add_filters(history, *opts);
  history->footer(
      R"(Every accepted change, parked conflict, resolution, rejection and decision, with
field, old and new value, the device as the server authenticated it (role, directorate), the
user and clock the device stated, and the server's time. Any role may ask.
Examples:  ergon history 3f9a12bc
           ergon history 3f9a12bc --field allocation --since 2024-03-01 --json)");
  history->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_history(*opts, ctx); };
  });

  auto* audit = app.add_subcommand("audit", "The audit: the whole log, and its verification");
  audit->require_subcommand(1);
  auto* log = audit->add_subcommand("log", "Every change of the programme, from the server's log");
  add_filters(log, *opts);
  log->add_option("--format", opts->format, "table (default) or csv (for Excel)");
  log->add_option("--out", opts->out, "write the CSV to this file (default: standard output)");
  log->footer(R"(Examples:  ergon audit log --since 2024-03-01 --device 7ea7d738
           ergon audit log --format csv --out audit-2024.csv)");
  log->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_history(*opts, ctx); };
  });
  auto verify_json = std::make_shared<bool>(false);
  auto* verify = audit->add_subcommand(
      "verify", "The server verifies its log, its master and the chain head this client holds");
  verify->add_flag("--json", *verify_json, "print the report as JSON");
  verify->footer(
      R"(Exit code 5 when anything does not verify: the first broken row and what differs.
Example:  ergon audit verify)");
  verify->callback([&ctx, verify_json] {
    ctx.action = [&ctx, verify_json]() -> core::Status { return run_verify(*verify_json, ctx); };
  });
}

}  // namespace ergon::client::cli

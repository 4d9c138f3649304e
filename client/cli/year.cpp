// year start: planning opens the next programme year on the server, then carries last year's
// continuing works and studies into it as drafts of its own (creates like any offline edit,
// so the log says who carried them). A retry carries only what is not carried yet.

#include <algorithm>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/store/sync_state.h"
#include "shared/merge/flags.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

struct YearOptions {
  int year = 0;
  bool json = false;
};

// The fields of `p` as a continuing draft of the next year: ΚΑ, total and paid-to-date carried, the
// year's allocation and its funding empty until planned again.
model::FieldValues carried_values(const model::Proposal& p) {
  auto values = model::all_values(p);
  for (const char* fixed : {"id", "year", "state", "decision_reason"}) values.erase(fixed);
  values["new_or_continuing"] = "continuing";
  values["predecessor_id"] = p.id.hex();
  values["allocation"] = "0.00";
  values["funding"] = "";
  return values;
}

// Predecessor ids already carried into `year`, on the server or in this home.
core::Result<std::set<std::string>> already_carried(LocalStore& store, int year) {
  std::set<std::string> out;
  auto remote = fetch_programme(store, year, "", 0);
  if (!remote) return core::fail(remote.error());
  ListFilter filter;
  filter.year = year;
  auto local = store.list(filter);
  if (!local) return core::fail(local.error());
  for (const auto* list : {&remote->proposals, &*local})
    for (const auto& p : *list)
      if (p.predecessor_id && p.state != model::State::kWithdrawn)
        out.insert(p.predecessor_id->hex());
  return out;
}

struct Carried {
  std::vector<model::Proposal> created;
  std::size_t before = 0;  // carried by an earlier run
};

core::Result<Carried> carry_over(LocalStore& store, int year) {
  auto last = fetch_programme(store, year - 1, "", 0);
  if (!last) return core::fail(last.error());
  auto done = already_carried(store, year);
  if (!done) return core::fail(done.error());
  Carried result;
  auto batch = store.begin_edits();
  if (!batch) return core::fail(batch.error());
  for (const auto& p : last->proposals) {
    if (!merge::continues_next_year(p)) continue;
    if (done->contains(p.id.hex())) {
      ++result.before;
      continue;
    }
    auto created = batch->create(carried_values(p), year);
    if (!created)
      return core::fail(created.error().code, "carrying " + p.id.hex().substr(0, 8) + " (" +
                                                  p.title + "): " + created.error().message);
    result.created.push_back(std::move(*created));
  }
  ERGON_TRY(batch->commit());
  return result;
}

core::Status run_year_start(const Context& ctx, const YearOptions& o) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  wire::Message request;
  request.mutable_year_start()->set_year(o.year);
  request.mutable_year_start()->set_user(store->device().user);
  auto reply = ask_server(*store, std::move(request), wire::Message::kYearStartReply);
  if (!reply) return core::fail(reply.error());
  const auto& started = reply->year_start_reply();
  // New proposals belong to the new year from now on (a sync would say so too).
  const auto& d = store->device();
  auto years = d.years;
  const auto& y = started.year();
  if (std::none_of(years.begin(), years.end(),
                   [&](const auto& known) { return known.year == o.year; }))
    years.push_back({y.year(), y.stage(), y.amendment_open(), y.drafts(), y.amendments()});
  ERGON_TRY(SyncState(*store).set_identity(d.role, d.directorate, o.year, years));
  auto carried = carry_over(*store, o.year);
  if (!carried) return core::fail(carried.error());
  if (o.json) {
    json ids = json::array();
    for (const auto& p : carried->created) ids.push_back(p.id.hex());
    std::cout << json{{"year", o.year},
                      {"stage", started.year().stage()},
                      {"already_open", started.already_open()},
                      {"checkpoint", checkpoint_text(started.record())},
                      {"carried", ids},
                      {"carried_before", carried->before}}
                     .dump(2)
              << "\n";
    return {};
  }
  std::cout << (started.already_open()
                    ? "The programme of " + std::to_string(o.year) + " was already open"
                    : "Opened the programme of " + std::to_string(o.year))
            << " at '" << started.year().stage() << "', beside " << o.year - 1
            << " (which can still be amended).\n";
  for (const auto& p : carried->created)
    std::cout << "  carried " << p.id.hex().substr(0, 8) << "  " << p.directorate << "  " << p.title
              << "\n";
  std::cout << carried->created.size() << " continuing works and studies of " << o.year - 1
            << " carried as drafts";
  if (carried->before > 0) std::cout << " (" << carried->before << " carried before)";
  std::cout << "; run 'ergon sync' to send them. Each needs its " << o.year
            << " allocation and funding.\n";
  return {};
}

}  // namespace

void add_year_commands(CLI::App& app, Context& ctx) {
  auto* year = app.add_subcommand("year", "Planning: open the next programme year");
  year->require_subcommand(1);
  auto o = std::make_shared<YearOptions>();
  auto* start = year->add_subcommand(
      "start", "Open YEAR on the server and carry last year's continuing works into it");
  start->add_option("YEAR", o->year, "the year to open: the one after the newest open year")
      ->required();
  start->add_flag("--json", o->json, "print the outcome as JSON");
  start->footer(R"(Every included work or study of the year before that is not completed or
removed comes over as a continuing draft with predecessor_id, its ΚΑ code, total budget and
paid-to-date; the new year's allocation starts empty. The old year stays open for amendments.
A continuing work missing from the new programme is a flag. Running it again carries only
what is not carried yet.
Example:  ergon year start 2025 && ergon sync)");
  start->callback(
      [&ctx, o] { ctx.action = [&ctx, o]() -> core::Status { return run_year_start(ctx, *o); }; });
}

}  // namespace ergon::client::cli

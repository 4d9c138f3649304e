// diff: two states of a year's programme compared, field by field, with money deltas and the
// totals per funding source against their envelopes. Each side is `current` (the master now),
// a frozen stage (draft: the latest draft) or a moment (a date or time); the server answers.

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/programme_diff.h"
#include "client/report/programme_report.h"
#include "client/report/proposal_json.h"
#include "shared/core/clock.h"

namespace ergon::client::cli {

core::Result<RemoteProgramme> programme_at(LocalStore& store, int year, const std::string& point) {
  if (point == "current" || point.empty()) return fetch_programme(store, year, "", 0);
  if (!point.empty() && point.front() >= '0' && point.front() <= '9') {
    auto ms = core::parse_time(point);
    if (!ms) return core::fail(ms.error());
    return fetch_programme(store, year, "", *ms);
  }
  return fetch_programme(store, year, point, 0);
}

namespace {

using nlohmann::json;

std::string money(std::int64_t cents) { return model::Money::from_cents(cents).greek_euro(); }

std::string signed_money(std::int64_t cents) { return (cents > 0 ? "+" : "") + money(cents); }

json delta_json(const ProposalDelta& d) {
  json fields = json::array();
  for (const auto& f : d.fields)
    fields.push_back({{"field", f.field},
                      {"before", field_value_json(f.field, f.before)},
                      {"after", field_value_json(f.field, f.after)}});
  return {{"id", d.id},
          {"title", d.title},
          {"directorate", d.directorate},
          {"fields", fields},
          {"total_budget", {{"before", d.total_before}, {"after", d.total_after}}},
          {"allocation",
           {{"before", d.allocation_before},
            {"after", d.allocation_after},
            {"delta", d.allocation_after - d.allocation_before}}}};
}

json diff_json(const ProgrammeDiff& diff, int year, const std::string& from,
               const std::string& to) {
  auto list = [](const std::vector<ProposalDelta>& rows) {
    json out = json::array();
    for (const auto& d : rows) out.push_back(delta_json(d));
    return out;
  };
  json sources = json::array();
  for (const auto& s : diff.sources)
    sources.push_back({{"source", s.source},
                       {"before", s.before},
                       {"after", s.after},
                       {"delta", s.after - s.before},
                       {"envelope_before", s.envelope_before},
                       {"envelope_after", s.envelope_after}});
  return {{"year", year},
          {"from", from},
          {"to", to},
          {"added", list(diff.added)},
          {"removed", list(diff.removed)},
          {"changed", list(diff.changed)},
          {"sources", sources},
          {"allocation",
           {{"before", diff.allocation_before},
            {"after", diff.allocation_after},
            {"delta", diff.allocation_after - diff.allocation_before}}},
          {"total_budget", {{"before", diff.total_before}, {"after", diff.total_after}}}};
}

void print_rows(const char* heading, char mark, const std::vector<ProposalDelta>& rows) {
  if (rows.empty()) return;
  std::cout << heading << " (" << rows.size() << "):\n";
  for (const auto& d : rows) {
    std::cout << "  " << mark << " " << d.id.substr(0, 8) << "  " << d.directorate << "  "
              << d.title << "\n";
    if (mark == '+')
      std::cout << "      πίστωση " << money(d.allocation_after) << ", προϋπολογισμός "
                << money(d.total_after) << "\n";
    if (mark == '-')
      std::cout << "      πίστωση " << money(d.allocation_before) << ", προϋπολογισμός "
                << money(d.total_before) << "\n";
    for (const auto& f : d.fields) {
      std::cout << "      " << f.field << ": " << field_value_text(f.field, f.before) << " → "
                << field_value_text(f.field, f.after);
      if (f.field == "allocation")
        std::cout << " (" << signed_money(d.allocation_after - d.allocation_before) << ")";
      if (f.field == "total_budget")
        std::cout << " (" << signed_money(d.total_after - d.total_before) << ")";
      std::cout << "\n";
    }
  }
}

void print_diff(const ProgrammeDiff& diff, int year, const std::string& from,
                const std::string& to) {
  std::cout << "Πρόγραμμα " << year << ": " << from << " → " << to << "\n";
  if (diff.added.empty() && diff.removed.empty() && diff.changed.empty())
    std::cout << "no proposal differs\n";
  print_rows("Προστέθηκαν (added)", '+', diff.added);
  print_rows("Αφαιρέθηκαν (removed)", '-', diff.removed);
  print_rows("Άλλαξαν (changed)", '~', diff.changed);
  std::cout << "\nΑνά πηγή χρηματοδότησης (in the programme):\n"
            << "  " << fit("πηγή", 6) << " " << fit(from, 18, true) << " " << fit(to, 18, true)
            << " " << fit("διαφορά", 18, true) << " " << fit("φάκελος", 18, true) << "\n";
  for (const auto& s : diff.sources)
    std::cout << "  " << fit(s.source, 6) << " " << fit(money(s.before), 18, true) << " "
              << fit(money(s.after), 18, true) << " "
              << fit(signed_money(s.after - s.before), 18, true) << " "
              << fit(s.envelope_after ? money(s.envelope_after) : "—", 18, true) << "\n";
  std::cout << "  " << fit("σύνολο", 6) << " " << fit(money(diff.allocation_before), 18, true)
            << " " << fit(money(diff.allocation_after), 18, true) << " "
            << fit(signed_money(diff.allocation_after - diff.allocation_before), 18, true) << "\n";
}

struct DiffOptions {
  std::string from, to;
  int year = 0;
  bool json = false;
};

core::Status run_diff(const Context& ctx, const DiffOptions& o) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  int year = o.year != 0 ? o.year : store->device().year;
  auto before = programme_at(*store, year, o.from);
  if (!before) return core::fail(before.error());
  auto after = programme_at(*store, year, o.to);
  if (!after) return core::fail(after.error());
  auto diff =
      diff_programmes(before->proposals, after->proposals, before->envelopes, after->envelopes);
  auto name = [](const RemoteProgramme& p, const std::string& asked) {
    return p.stage ? p.stage->name() : asked;
  };
  if (o.json)
    std::cout << diff_json(diff, year, name(*before, o.from), name(*after, o.to)).dump(2) << "\n";
  else
    print_diff(diff, year, name(*before, o.from), name(*after, o.to));
  return {};
}

}  // namespace

void add_diff_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DiffOptions>();
  auto* cmd = app.add_subcommand(
      "diff", "Compare two states of the programme: stages, moments or the master now");
  cmd->add_option("FROM", o->from,
                  "current, a stage (draft, draft-1, approved, amendment-1 …) "
                  "or a date or time (2024-03-05, 2024-03-05T14:30)")
      ->required();
  cmd->add_option("TO", o->to, "the same forms")->required();
  cmd->add_option("--year", o->year, "the programme year (default: this client's)");
  cmd->add_flag("--json", o->json,
                "{added, removed, changed, sources, allocation, total_budget}; money in cents");
  cmd->footer(R"(Totals count what is in the programme (not withdrawn, rejected or deferred).
Example:  ergon diff draft approved)");
  cmd->callback(
      [&ctx, o] { ctx.action = [&ctx, o]() -> core::Status { return run_diff(ctx, *o); }; });
}

}  // namespace ergon::client::cli

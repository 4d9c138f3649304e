// Money and cross-row checks: `envelope set`, `envelopes`, `flags`, `flag ack`.

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/programme_report.h"
#include "shared/core/clock.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

json cents_or_null(const std::optional<model::Money>& m) {
  return m ? json(m->cents()) : json(nullptr);
}

struct EnvelopeSetOptions {
  std::string source;
  std::string amount;
  int year = 0;
};

core::Status run_envelope_set(const EnvelopeSetOptions& opts, const Context& ctx) {
  auto amount = model::Money::parse(opts.amount);
  if (!amount)
    return core::fail(core::ErrorCode::kInvalidArgument, "amount: " + amount.error().message);
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  int year = opts.year != 0 ? opts.year : store->device().year;
  auto seq = store->set_envelope(year, opts.source, *amount);
  if (!seq) return core::fail(seq.error());
  std::cout << "envelope " << year << " " << opts.source << ": " << amount->greek_euro()
            << " (1 change waiting to be synchronised)\n";
  return {};
}

void add_envelope_command(CLI::App& app, Context& ctx) {
  auto* envelope = app.add_subcommand("envelope", "Budget: set the money available per source");
  envelope->require_subcommand(1);
  auto opts = std::make_shared<EnvelopeSetOptions>();
  auto* set = envelope->add_subcommand("set", "Set a funding source's envelope for a year");
  set->add_option("SOURCE", opts->source, "a code of funding-sources.csv, e.g. 1099")->required();
  set->add_option("AMOUNT", opts->amount, "e.g. 2.500.000,00")->required();
  set->add_option("--year", opts->year, "the programme year (default: the client's)");
  set->footer(R"(Budget only. Works offline and syncs like an edit; two budget devices setting the
same source offline meet as a conflict.
Example:  ergon envelope set 1099 2.500.000,00)");
  set->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_envelope_set(*opts, ctx); };
  });
}

struct EnvelopesOptions {
  int year = 0;
  bool json = false;
};

core::Status run_envelopes(const EnvelopesOptions& opts, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  int year = opts.year != 0 ? opts.year : store->device().year;
  auto uses = store->envelope_uses(year);
  if (!uses) return core::fail(uses.error());
  if (opts.json) {
    json out = json::array();
    for (const auto& u : *uses)
      out.push_back({{"source", u.source},
                     {"envelope", cents_or_null(u.envelope)},
                     {"allocated", u.allocated.cents()},
                     {"requested", u.requested.cents()},
                     {"remaining", cents_or_null(u.remaining)}});
    std::cout << out.dump(2) << "\n";
    return {};
  }
  std::cout << "Πηγές χρηματοδότησης " << year << "\n"
            << fit("πηγή", 6) << " " << fit("φάκελος", 18, true) << " "
            << fit("εγκεκριμένα", 18, true) << " " << fit("αιτούμενα", 18, true) << " "
            << fit("υπόλοιπο", 18, true) << "\n";
  for (const auto& u : *uses)
    std::cout << fit(u.source, 6) << " "
              << fit(u.envelope ? u.envelope->greek_euro() : "χωρίς όριο", 18, true) << " "
              << fit(u.allocated.greek_euro(), 18, true) << " "
              << fit(u.requested.greek_euro(), 18, true) << " "
              << fit(u.remaining ? u.remaining->greek_euro() : "—", 18, true)
              << (u.is_over() ? "  ΥΠΕΡΒΑΣΗ (over-committed)" : "") << "\n";
  if (uses->empty()) std::cout << "no envelopes and no funding yet\n";
  return {};
}

void add_envelopes_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<EnvelopesOptions>();
  auto* cmd = app.add_subcommand(
      "envelopes", "Per funding source: envelope, allocated, requested and remaining money");
  cmd->add_option("--year", opts->year, "the programme year (default: the client's)");
  cmd->add_flag("--json", opts->json,
                "an array of {source, envelope, allocated, requested, remaining}, in cents; "
                "envelope and remaining are null for a source without an envelope");
  cmd->footer(R"(Allocated: the included proposals' funding on the source. Requested: the submitted
and included ones'. A source without an envelope is unlimited and raises no flag.)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_envelopes(*opts, ctx); };
  });
}

struct FlagsOptions {
  int year = 0;
  bool json = false;
};

core::Status run_flags(const FlagsOptions& opts, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  int year = opts.year != 0 ? opts.year : store->device().year;
  auto flags = store->flags(year);
  if (!flags) return core::fail(flags.error());
  json out = json::array();
  for (const auto& f : *flags) {
    const auto& ack = f.acknowledged;
    out.push_back({{"id", f.id},
                   {"kind", f.flag.kind},
                   {"message", f.flag.message},
                   {"proposals", f.flag.proposals},
                   {"acknowledged", ack ? json{{"by", ack->user},
                                               {"reason", ack->reason},
                                               {"at", core::format_utc(ack->at_ms)}}
                                        : json(nullptr)}});
    if (opts.json) continue;
    std::cout << (ack ? "acknowledged " : "OPEN         ") << f.id << "\n  " << f.flag.message
              << "\n";
    if (ack)
      std::cout << "  by " << (ack->user.empty() ? "(no name)" : ack->user) << " at "
                << core::format_human(ack->at_ms) << ": " << ack->reason << "\n";
  }
  if (opts.json)
    std::cout << out.dump(2) << "\n";
  else if (flags->empty())
    std::cout << "no flags in " << year << "\n";
  return {};
}

void add_flags_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<FlagsOptions>();
  auto* cmd = app.add_subcommand(
      "flags", "Cross-row problems: a source over its envelope, a ΚΑ code used twice");
  cmd->add_option("--year", opts->year, "the programme year (default: the client's)");
  cmd->add_flag("--json", opts->json,
                "an array of {id, kind, message, proposals, acknowledged}; acknowledged is null "
                "or {by, reason, at}");
  cmd->footer(R"(Flags never block an edit: they wait for planning (budget for money flags). A flag
closes by itself when its cause goes away; an acknowledged one opens again when its cause grows.
Ids look like envelope:2024:1099 and ka:2024:30-7323.004.)");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_flags(*opts, ctx); };
  });
}

struct AckOptions {
  std::string id, reason;
};

void add_flag_command(CLI::App& app, Context& ctx) {
  auto* flag = app.add_subcommand("flag", "Planning or budget: acknowledge a flag");
  flag->require_subcommand(1);
  auto opts = std::make_shared<AckOptions>();
  auto* ack = flag->add_subcommand("ack", "Acknowledge a raised flag with a reason (logged)");
  ack->add_option("FLAG", opts->id, "the flag's id, as 'ergon flags' prints it")->required();
  ack->add_option("--reason", opts->reason, "why it may stand; shown to everyone")->required();
  ack->footer(
      R"(Example:  ergon flag ack envelope:2024:1099 --reason 'Συμπληρωματική χρηματοδότηση')");
  ack->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status {
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto seq = store->acknowledge_flag(opts->id, opts->reason);
      if (!seq) return core::fail(seq.error());
      std::cout << "flag " << opts->id << " acknowledged (1 change waiting to be synchronised)\n";
      return {};
    };
  });
}

}  // namespace

void add_money_commands(CLI::App& app, Context& ctx) {
  add_envelope_command(app, ctx);
  add_envelopes_command(app, ctx);
  add_flags_command(app, ctx);
  add_flag_command(app, ctx);
}

}  // namespace ergon::client::cli

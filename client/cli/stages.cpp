// stage advance / reopen / close, stages, diff: the programme's formal life. Stage moves are
// requests the server answers (a move freezes the master, so it cannot wait offline); a diff
// compares two programmes the server holds: frozen stages, moments, or the master now.

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/report/programme_diff.h"
#include "client/report/programme_report.h"
#include "client/sync/server_query.h"
#include "shared/changelog/log_entry.h"
#include "shared/core/clock.h"

namespace ergon::client::cli {

std::string checkpoint_text(const wire::StageRecord& r) {
  crypto::Digest head{};
  if (r.chain_head().size() == head.size())
    std::copy(r.chain_head().begin(), r.chain_head().end(), head.begin());
  return changelog::head_text({r.checkpoint().epoch(), r.checkpoint().seq()}, head);
}

namespace {

using nlohmann::json;

json record_json(const wire::StageRecord& r) {
  const auto& d = r.decision();
  auto or_null = [](const std::string& text) { return text.empty() ? json(nullptr) : json(text); };
  return {{"year", r.year()},
          {"stage", r.name()},
          {"action", r.action()},
          {"decision",
           {{"body", or_null(d.body())},
            {"number", or_null(d.number())},
            {"date", or_null(d.date())},
            {"ada", or_null(d.ada())}}},
          {"at", core::format_utc(r.at_ms())},
          {"enrolment", r.enrolment()},
          {"user", r.user()},
          {"checkpoint", checkpoint_text(r)},
          {"frozen", r.frozen()},
          {"proposals", r.proposals()}};
}

std::string decision_text(const wire::StageDecision& d) {
  std::string text = d.body();
  if (!d.number().empty()) text += ", απόφαση " + d.number();
  if (!d.date().empty()) text += " της " + core::format_human_date(d.date());
  if (!d.ada().empty()) text += " (ΑΔΑ " + d.ada() + ")";
  return text;
}

struct MoveOptions {
  std::string target, number, date, ada, body;
  int year = 0;
  bool json = false;
};

core::Status run_move(const Context& ctx, const MoveOptions& o, const std::string& action) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  wire::Message request;
  auto* move = request.mutable_stage_move();
  move->set_year(o.year != 0 ? o.year : store->device().year);
  move->set_action(action);
  move->set_target(o.target);
  move->set_user(store->device().user);
  auto* d = move->mutable_decision();
  d->set_body(o.body);
  d->set_number(o.number);
  d->set_date(o.date);
  d->set_ada(o.ada);
  auto reply = ask_server(*store, std::move(request), wire::Message::kStageMoveReply);
  if (!reply) return core::fail(reply.error());
  const auto& r = reply->stage_move_reply().record();
  if (o.json) {
    std::cout << record_json(r).dump(2) << "\n";
    return {};
  }
  if (r.action() == "open")
    std::cout << "The programme of " << r.year() << " is now in " << r.name()
              << ", open: planning and budget may change it until it is closed with\n  ergon "
                 "stage close "
              << r.name() << " --decision NO/YEAR --date DD/MM/YYYY\n";
  else
    std::cout << "The programme of " << r.year() << " is now at '"
              << reply->stage_move_reply().year().stage() << "'; frozen as " << r.name() << " ("
              << r.proposals() << " proposals)\n  decision: " << decision_text(r.decision())
              << "\n  checkpoint: " << checkpoint_text(r) << "\n";
  return {};
}

void add_move(CLI::App& stage, Context& ctx, const std::string& action, const std::string& help,
              const std::string& target_help, const std::string& footer) {
  auto o = std::make_shared<MoveOptions>();
  auto* cmd = stage.add_subcommand(action, help);
  cmd->add_option("STAGE", o->target, target_help)->required();
  cmd->add_option("--decision", o->number,
                  "the decision's number, NO/YEAR (45/2024); required from the committee on, and "
                  "for an amendment's opening and closing");
  cmd->add_option("--date", o->date,
                  "the decision's date: 22/01/2024, 22-01-2024 or 2024-01-22; not after today nor "
                  "before the previous stage's");
  cmd->add_option("--ada", o->ada,
                  "the decision's Diavgeia id (ΑΔΑ): 7 or 10 Greek capitals and digits, a hyphen, "
                  "3 more (6ΞΥ4ΩΗΓ-1ΑΒ)");
  cmd->add_option("--body", o->body, "who decided (default: the body of the stage)");
  cmd->add_option("--year", o->year, "the programme year (default: this client's)");
  cmd->add_flag("--json", o->json, "print the stage record as JSON");
  cmd->footer(footer);
  cmd->callback([&ctx, o, action] {
    ctx.action = [&ctx, o, action]() -> core::Status { return run_move(ctx, *o, action); };
  });
}

core::Status run_stages(const Context& ctx, int year, bool as_json) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  wire::Message request;
  request.mutable_stages()->set_year(year);
  auto reply = ask_server(*store, std::move(request), wire::Message::kStagesReply);
  if (!reply) return core::fail(reply.error());
  const auto& answer = reply->stages_reply();
  if (as_json) {
    json out = json::array();
    for (const auto& y : answer.years()) {
      json records = json::array();
      for (const auto& r : answer.records())
        if (r.year() == y.year()) records.push_back(record_json(r));
      out.push_back({{"year", y.year()},
                     {"stage", y.stage()},
                     {"amendment_open", y.amendment_open()},
                     {"records", records}});
    }
    std::cout << out.dump(2) << "\n";
    return {};
  }
  for (const auto& y : answer.years()) {
    std::cout << "Πρόγραμμα " << y.year() << ": " << y.stage()
              << (y.amendment_open()                   ? " (open)"
                  : y.stage().starts_with("amendment") ? " (closed)"
                                                       : "")
              << "\n";
    for (const auto& r : answer.records()) {
      if (r.year() != y.year()) continue;
      std::cout << "  " << fit(r.name(), 14) << " " << fit(r.action(), 8) << " "
                << core::format_human(r.at_ms()) << "  " << decision_text(r.decision());
      if (r.frozen())
        std::cout << "  [" << r.proposals() << " proposals, " << checkpoint_text(r) << "]";
      std::cout << "\n";
    }
  }
  return {};
}

}  // namespace

void add_stage_commands(CLI::App& app, Context& ctx) {
  auto* stage = app.add_subcommand(
      "stage", "Move the programme through its stages (planning; asks the server)");
  stage->require_subcommand(1);
  add_move(*stage, ctx, "advance", "Enter the next stage, recording the decision that moved it",
           "draft, consultation, committee, approved, or amendment (opens the next one)",
           R"(Each stage freezes the programme as it is and records the checkpoint (log row and
chain head). Number and date are required from committee on, and to open an amendment (the
Municipal Committee's proposal; the Council's decision closes it). No stage moves while a flag
is open (acknowledge it or fix its cause); the draft is frozen only when every proposal of the
year is decided (included, deferred or rejected). From approved on, changes need an open
amendment.
Examples:  ergon stage advance draft --date 15/01/2024
           ergon stage advance committee --decision 45/2024 --date 20/02/2024 --ada 6ΞΥ4ΩΗΓ-1ΑΒ
           ergon stage advance amendment --decision 250/2024 --date 10/06/2024)");
  add_move(*stage, ctx, "reopen", "Reopen the draft before the committee (frozen as draft-N)",
           "draft",
           "Every proposal of the year must be decided first.\nExample:  ergon stage reopen draft "
           "--body 'Δήμαρχος' --date 10/01/2024");
  add_move(*stage, ctx, "close", "Close the open amendment with its decision",
           "the open amendment, e.g. amendment-1",
           "The Council's decision on the amendment.\nExample:  ergon stage close amendment-1 "
           "--decision 312/2024 --date 28/06/2024");

  auto year = std::make_shared<int>(0);
  auto as_json = std::make_shared<bool>(false);
  auto* list = app.add_subcommand("stages", "The programme's stages: decisions and checkpoints");
  list->add_option("--year", *year, "only this programme year (default: every open year)");
  list->add_flag("--json", *as_json, "an array of years, each with its stage records");
  list->callback([&ctx, year, as_json] {
    ctx.action = [&ctx, year, as_json] { return run_stages(ctx, *year, *as_json); };
  });
}

}  // namespace ergon::client::cli

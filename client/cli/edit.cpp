#include <iostream>

#include "client/cli/commands.h"
#include "shared/model/text.h"

namespace ergon::client::cli {
namespace {

constexpr const char* kFieldHelp =
    R"(Fields (FIELD=VALUE, split at the first '='; FIELD= clears an optional field):
  directorate (default: this client's)  ka_code (30-7323.001)  title  category (work|study)
  new_or_continuing (new|continuing)  area (HER-CITY, ALL, ...)  total_budget  paid_to_date
  allocation  funding ('1099=300.000,00|0518=500.000,00', or one code for the whole allocation)
  status (maturing|tendering|contracted|completed|removed)  priority (A|B|C)
  strategic_plans (SVAA|SMART|...)  predecessor_id  remarks
Money: 1.500.000,00 or 1500000.00 (',' is the decimal mark; '.' groups thousands).)";

void print_queued(const EditResult& result, std::string_view verb) {
  auto id = result.proposal.id.hex().substr(0, 8);
  if (result.queued_seqs.empty())
    std::cout << id << ": nothing changed\n";
  else
    std::cout << id << ": " << verb << " (" << result.queued_seqs.size()
              << (result.queued_seqs.size() == 1 ? " change" : " changes")
              << " waiting to be synchronised)\n";
}

void add_add_command(CLI::App& app, Context& ctx) {
  auto assignments = std::make_shared<std::vector<std::string>>();
  auto* add = app.add_subcommand("add", "Create a draft proposal; prints only its new id");
  add->add_option("FIELD=VALUE", *assignments, "the proposal's fields")->required();
  add->footer(std::string(kFieldHelp) + R"(

Example:
  ergon add title='Ανάπλαση πλατείας' category=work ka_code=30-7323.050 area=HER-CITY \
    total_budget=1.500.000,00 allocation=800.000,00 funding='1099=300.000,00|0518=500.000,00' \
    new_or_continuing=new status=maturing priority=A)");
  add->callback([&ctx, assignments] {
    ctx.action = [&ctx, assignments]() -> core::Status {
      auto values = parse_assignments(*assignments);
      if (!values) return core::fail(values.error());
      for (const auto& [name, text] : *values)
        if (!model::find_field(name)->is_user_settable)
          return core::fail(core::ErrorCode::kUsage,
                            "'" + name +
                                "' is not set with FIELD=VALUE: id is created, year is "
                                "the programme's (ergon init --year), state starts as draft");
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto created = store->create(*values);
      if (!created) return core::fail(created.error());
      std::cout << created->id.hex() << "\n";
      return {};
    };
  });
}

void add_edit_command(CLI::App& app, Context& ctx) {
  struct EditOptions {
    std::string id;
    std::vector<std::string> assignments;
  };
  auto edit_opts = std::make_shared<EditOptions>();
  auto* edit = app.add_subcommand("edit", "Change fields of a proposal");
  edit->add_option("ID", edit_opts->id, "the proposal's id, or its first 8+ hex digits")
      ->required();
  edit->add_option("FIELD=VALUE", edit_opts->assignments, "the fields to change")->required();
  edit->footer(std::string(kFieldHelp) + R"(

Example:
  ergon edit 3f9a12bc allocation=900.000,00 funding='1099=400.000,00|0518=500.000,00'
  ergon edit 3f9a12bc remarks='Ένταξη στο ΕΣΠΑ' ka_code=)");
  edit->callback([&ctx, edit_opts] {
    ctx.action = [&ctx, edit_opts]() -> core::Status {
      auto values = parse_assignments(edit_opts->assignments);
      if (!values) return core::fail(values.error());
      auto store = ctx.open_store();
      if (!store) return core::fail(store.error());
      auto id = store->resolve_id(edit_opts->id);
      if (!id) return core::fail(id.error());
      auto result = store->edit(*id, *values);
      if (!result) return core::fail(result.error());
      print_queued(*result, "updated");
      return {};
    };
  });
}

// submit and withdraw differ only in the store call and the words, so one loop registers both.
void add_submit_withdraw_commands(CLI::App& app, Context& ctx) {
  for (auto [name, help, verb] :
       {std::tuple{"submit", "Submit a draft to the Department of Programming", "submitted"},
        std::tuple{"withdraw",
                   "Withdraw a proposal before planning decides (it is kept, marked withdrawn)",
                   "withdrawn"}}) {
    auto ids = std::make_shared<std::vector<std::string>>();
    auto* cmd = app.add_subcommand(name, help);
    cmd->add_option("ID", *ids, "the proposals' ids, or their first 8+ hex digits")->required();
    cmd->footer(std::string("All the ids together, or none.\nExample:  ergon ") + name +
                " 3f9a12bc 7c01d2e4");
    bool is_submit = std::string_view(name) == "submit";
    cmd->callback([&ctx, ids, is_submit, verb = std::string(verb)] {
      ctx.action = [&ctx, ids, is_submit, verb]() -> core::Status {
        auto store = ctx.open_store();
        if (!store) return core::fail(store.error());
        std::vector<core::ProposalId> resolved;
        for (const auto& text : *ids) {
          auto id = store->resolve_id(text);
          if (!id) return core::fail(id.error());
          resolved.push_back(*id);
        }
        auto results = is_submit ? store->submit(resolved) : store->withdraw(resolved);
        if (!results) return core::fail(results.error());
        for (const auto& result : *results) {
          if (result.queued_seqs.empty())
            std::cout << result.proposal.id.hex().substr(0, 8) << ": already " << verb
                      << "; nothing to synchronise\n";
          else
            print_queued(result, verb);
        }
        return {};
      };
    });
  }
}

struct DecideOptions {
  std::vector<std::string> words;  // ID… DECISION
  std::string reason;
};

core::Status run_decide(const DecideOptions& opts, const Context& ctx) {
  if (opts.words.size() < 2)
    return core::fail(core::ErrorCode::kUsage,
                      "decide needs one or more ids and then included, deferred or rejected");
  const auto& word = opts.words.back();
  auto decision = model::parse_enum<model::State>(word);
  if (!decision || !model::is_decided(*decision))
    return core::fail(core::ErrorCode::kUsage,
                      "'" + word +
                          "' is not a decision; write included, deferred or rejected "
                          "after the ids");
  if ((*decision == model::State::kDeferred || *decision == model::State::kRejected) &&
      model::trim(opts.reason).empty())
    return core::fail(
        core::ErrorCode::kInvalidArgument,
        "a proposal is " + word + " with a reason, which its directorate reads: add --reason '…'");
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  std::vector<core::ProposalId> ids;
  for (std::size_t i = 0; i + 1 < opts.words.size(); ++i) {
    auto id = store->resolve_id(opts.words[i]);
    if (!id) return core::fail(id.error());
    ids.push_back(*id);
  }
  auto results = store->decide(ids, *decision, opts.reason);
  if (!results) return core::fail(results.error());
  for (const auto& result : *results) {
    if (result.queued_seqs.empty())
      std::cout << result.proposal.id.hex().substr(0, 8) << ": already " << word
                << "; nothing to synchronise\n";
    else
      print_queued(result, word);
  }
  return {};
}

void add_decide_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<DecideOptions>();
  auto* cmd = app.add_subcommand(
      "decide", "Planning: include, defer or reject proposals (a later decision replaces it)");
  cmd->add_option("ID... DECISION", opts->words,
                  "one or more ids (or 8+ hex digit prefixes), then included, deferred or "
                  "rejected")
      ->required();
  cmd->add_option("--reason", opts->reason,
                  "why; required for deferred and rejected, shown to the directorate");
  cmd->footer(R"(All the ids are decided together, or none is. Works offline; sync sends it.
Examples:
  ergon decide 3f9a12bc 7c01d2e4 included
  ergon decide 3f9a12bc deferred --reason 'Ώριμο για το 2025')");
  cmd->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_decide(*opts, ctx); };
  });
}

}  // namespace

void add_edit_commands(CLI::App& app, Context& ctx) {
  add_add_command(app, ctx);
  add_edit_command(app, ctx);
  add_submit_withdraw_commands(app, ctx);
  add_decide_command(app, ctx);
}

}  // namespace ergon::client::cli

// The edit path: what a user's create, edit, submit and withdraw queue in the outbox, checked
// by the same rules the server applies (merge::check_edit), in one transaction each.

#include <algorithm>

#include "client/store/local_sql.h"
#include "client/store/local_store.h"
#include "client/store/sync_state.h"
#include "shared/changelog/field_value_io.h"
#include "shared/core/numbers.h"
#include "shared/merge/decide.h"
#include "shared/model/text.h"
#include "shared/model/validate.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;
using model::FieldValues;
using model::Proposal;
using model::State;

// A change of `group` to `values`, as the server will see it, for merge::check_edit.
changelog::Change change_of(const core::ProposalId& id, std::string_view group,
                            const FieldValues& values) {
  changelog::Change change;
  change.entity = {changelog::EntityKind::kProposal, id.hex()};
  change.group = std::string(group);
  change.values = values;
  return change;
}

// Every name is a field the scope may set; typed free text keeps each word in one alphabet.
core::Status check_settable(const FieldValues& values, EditScope scope) {
  for (const auto& [name, text] : values) {
    if (name == "title" || name == "remarks")
      if (auto mixed = model::check_one_script_per_word(text); !mixed)
        return fail(mixed.error().code, name + ": " + mixed.error().message);
    const auto* spec = model::find_field(name);
    if (!spec) {
      Proposal probe;
      return fail(model::set_field(probe, name, text).error());  // names the valid fields
    }
    if (scope == EditScope::kUserFields && !spec->is_user_settable)
      return fail(ErrorCode::kUsage,
                  "'" + name + "' cannot be set with FIELD=VALUE; " +
                      (name == "state" || name == "decision_reason"
                           ? "use 'ergon submit', 'ergon withdraw' or (planning) 'ergon decide'"
                           : "it is fixed when the proposal is created"));
  }
  return {};
}

}  // namespace

core::Result<EditBatch> LocalStore::begin_edits() {
  auto tx = db_->begin_immediate();
  if (!tx) return fail(tx.error());
  return EditBatch(*this, std::move(*tx));
}

core::Result<Proposal> LocalStore::create(const FieldValues& values, std::optional<int> year) {
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  auto created = batch->create(values, year);
  if (!created) return fail(created.error());
  ERGON_TRY(batch->commit());
  return created;
}

core::Result<EditResult> LocalStore::edit(const core::ProposalId& id, const FieldValues& values,
                                          EditScope scope) {
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  auto edited = batch->edit(id, values, scope);
  if (!edited) return fail(edited.error());
  ERGON_TRY(batch->commit());
  return edited;
}

// One state for every proposal of `ids`, in one transaction: all move, or none.
core::Result<std::vector<EditResult>> LocalStore::change_states(
    const std::vector<core::ProposalId>& ids, State to, const std::string& reason) {
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  std::vector<EditResult> results;
  for (const auto& id : ids) {
    auto changed =
        batch->edit(id, {{"state", std::string(model::to_string(to))}, {"decision_reason", reason}},
                    EditScope::kAnyField);
    if (!changed) return fail(changed.error());
    results.push_back(std::move(*changed));
  }
  ERGON_TRY(batch->commit());
  return results;
}

core::Result<std::vector<EditResult>> LocalStore::submit(const std::vector<core::ProposalId>& ids) {
  return change_states(ids, State::kSubmitted, "");
}
core::Result<std::vector<EditResult>> LocalStore::withdraw(
    const std::vector<core::ProposalId>& ids) {
  return change_states(ids, State::kWithdrawn, "");
}
core::Result<EditResult> LocalStore::submit(const core::ProposalId& id) {
  auto results = submit(std::vector{id});
  if (!results) return fail(results.error());
  return std::move(results->front());
}
core::Result<EditResult> LocalStore::withdraw(const core::ProposalId& id) {
  auto results = withdraw(std::vector{id});
  if (!results) return fail(results.error());
  return std::move(results->front());
}

core::Result<std::vector<EditResult>> LocalStore::decide(const std::vector<core::ProposalId>& ids,
                                                         State decision,
                                                         const std::string& reason) {
  if (!model::is_decided(decision))
    return fail(ErrorCode::kUsage, "a decision is included, deferred or rejected, not '" +
                                       std::string(model::to_string(decision)) + "'");
  return change_states(ids, decision, reason);
}

core::Result<Proposal> EditBatch::create(const FieldValues& values, std::optional<int> year,
                                         std::optional<core::ProposalId> id) {
  const auto& device = store_->device_;
  ERGON_TRY(check_settable(values, EditScope::kAnyField));
  FieldValues given = values;
  if (!given.contains("directorate") || model::trim(given["directorate"]).empty())
    given["directorate"] = device.directorate;
  auto missing = model::check_required(given);
  if (!missing.empty()) {
    std::string message;
    for (const auto& e : missing) message += (message.empty() ? "" : "; ") + e.message;
    return fail(ErrorCode::kInvalidArgument, message);
  }
  Proposal p;
  p.id = id.value_or(core::ProposalId::random());
  p.year = year.value_or(device.year);
  p.state = State::kDraft;
  ERGON_TRY(model::apply_values(p, given));
  ERGON_TRY(model::validate_proposal(p, store_->reference_));
  // Once a server has named the role and the year, a create it would refuse (another
  // directorate's, another year's) is refused here; before that, the server decides.
  if (!store_->setting("server_id").empty()) {
    auto create = change_of(p.id, changelog::kCreateGroup, model::all_values(p));
    if (auto refused = merge::check_edit(create, p, store_->permission(merge::Role::kPlanning)))
      return fail(refused->code, refused->reason);
    if (auto closed = merge::check_open_year(p.year, {device.year}))
      return fail(closed->code, closed->reason);
  }
  auto seq =
      queue_change(changelog::EntityKind::kProposal, p.id.hex(),
                   std::string(changelog::kCreateGroup), model::all_values(p), changelog::Base{});
  if (!seq) return fail(seq.error());
  ERGON_TRY(store_->write_view(p));
  return p;
}

core::Result<EditResult> EditBatch::edit(const core::ProposalId& id, const FieldValues& values,
                                         EditScope scope) {
  auto current = store_->get(id);
  if (!current) return fail(current.error());
  ERGON_TRY(store_->check_not_held(id));
  ERGON_TRY(check_settable(values, scope));
  Proposal next = *current;
  ERGON_TRY(model::apply_values(next, values));
  next.id = current->id;  // import rows may carry the id: it never changes
  next.year = current->year;
  ERGON_TRY(model::validate_proposal(next, store_->reference_));

  // A home that has not yet learnt its role and directorate checks as the widest role (the
  // rules of every role still apply: transitions, reasons); the server then decides the rest.
  auto permission = store_->permission(merge::Role::kPlanning);
  EditResult result{next, {}};
  std::optional<core::Result<changelog::Base>> base;
  for (auto group : model::all_groups()) {
    auto after = model::group_values(next, group);
    bool is_state = group == model::kStateGroup && values.contains("state");
    if (model::group_values(*current, group) == after && !is_state) continue;
    if (auto refused = merge::check_edit(change_of(id, group, after), *current, permission))
      return fail(refused->code, refused->reason);
    if (model::group_values(*current, group) == after) continue;  // the server's no-op too
    // One horizon for the edit's changes: what the home had seen before the first of them.
    if (!base) base = horizon_for(id.hex());
    if (!*base) return fail(base->error());
    auto seq =
        queue_change(changelog::EntityKind::kProposal, id.hex(), std::string(group), after, **base);
    if (!seq) return fail(seq.error());
    result.queued_seqs.push_back(*seq);
  }
  if (!result.queued_seqs.empty()) ERGON_TRY(store_->write_view(next));
  return result;
}

core::Result<std::optional<core::ProposalId>> EditBatch::match(int year, const std::string& ka_code,
                                                               const std::string& directorate,
                                                               const std::string& title) {
  auto ids_of = [&](std::string_view sql, auto&& bind) -> core::Result<std::vector<std::string>> {
    auto stmt = store_->statement(sql);
    if (!stmt) return fail(stmt.error());
    bind(**stmt);
    return (*stmt)->collect<std::string>([](auto& s) { return s.column_text(0); });
  };
  if (!ka_code.empty()) {
    auto ids = ids_of(sql::kMatchKa, [&](auto& s) { s.bind(1, year).bind(2, ka_code); });
    if (!ids) return fail(ids.error());
    if (ids->size() == 1) {
      auto id = core::ProposalId::parse(ids->front());
      if (!id) return fail(ErrorCode::kCorrupt, id.error().message);
      return std::optional<core::ProposalId>(*id);
    }
  }
  auto ids = ids_of(sql::kMatchTitle, [&](auto& s) {
    s.bind(1, year).bind(2, directorate).bind(3, model::fold_for_search(title));
  });
  if (!ids) return fail(ids.error());
  if (ids->empty()) return std::optional<core::ProposalId>{};
  auto id = core::ProposalId::parse(ids->front());
  if (!id) return fail(ErrorCode::kCorrupt, id.error().message);
  return std::optional<core::ProposalId>(*id);
}

core::Result<GroupSeen> EditBatch::seen(const std::string& entity, std::string_view group) {
  GroupSeen seen;
  auto own = store_->statement(sql::kOutboxLastForGroup);
  if (!own) return fail(own.error());
  (*own)->bind(1, entity).bind(2, group);
  auto last = (*own)->collect<std::optional<std::uint64_t>>([](auto& s) {
    return s.column_is_null(0) ? std::nullopt : std::optional(s.column_uint64(0));
  });
  if (!last) return fail(last.error());
  if (!last->empty()) seen.pending_seq = last->front();
  auto rev = store_->statement(sql::kServerRevision);
  if (!rev) return fail(rev.error());
  (*rev)->bind(1, entity).bind(2, group);
  ERGON_TRY((*rev)->for_each([&](storage::Statement& s) {
    seen.server = changelog::Revision{s.column_uint64(0), s.column_uint64(1)};
  }));
  return seen;
}

core::Result<changelog::Base> EditBatch::horizon_for(const std::string& entity) {
  // What the editor had seen (docs/merge.md, "The horizon"): the last server log row this home
  // applied, which covers every group of every entity. Its own changes to the entity still in
  // flight show their values in place of the server's and so hide what another device wrote
  // since they were queued: then it has seen no more than the earliest of them had.
  changelog::Base base;
  base.kind = changelog::Base::Kind::kRevision;
  auto applied = SyncState(*store_).applied_position();
  if (!applied) return fail(applied.error());
  base.revision = *applied;
  auto stmt = store_->statement(sql::kOutboxEarliestHorizon);
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, entity);
  ERGON_TRY((*stmt)->for_each([&](storage::Statement& s) {
    base.revision = std::min(base.revision, {s.column_uint64(0), s.column_uint64(1)});
  }));
  return base;
}

core::Result<std::uint64_t> EditBatch::queue_change(changelog::EntityKind kind,
                                                    const std::string& entity,
                                                    const std::string& group,
                                                    const FieldValues& values,
                                                    changelog::Base base) {
  auto& store = *store_;
  auto next = store.meta("next_seq");
  if (!next) return fail(next.error());
  auto seq = core::parse_number<std::uint64_t>(*next, "the home's next change number");
  if (!seq) return fail(ErrorCode::kCorrupt, seq.error().message);
  // Another process on this home may have stamped changes since we opened it: read its clock
  // inside this transaction, so times keep increasing across processes.
  auto wall = core::parse_number<std::int64_t>(store.setting("hlc_wall"), "hlc_wall");
  auto logical = core::parse_number<std::uint32_t>(store.setting("hlc_logical"), "hlc_logical");
  if (wall && logical) store.hlc_.observe(core::Hlc{*wall, *logical});
  auto time = store.hlc_.now();
  auto encoded = changelog::encode_values(values);
  auto stmt = store.statement(sql::kOutboxInsert);
  if (!stmt) return fail(stmt.error());
  (*stmt)
      ->bind(1, *seq)
      .bind(2, static_cast<int>(kind))
      .bind(3, entity)
      .bind(4, group)
      .bind(5, storage::Blob{encoded})
      .bind(6, static_cast<int>(base.kind))
      .bind(7, base.revision.epoch)
      .bind(8, base.revision.seq)
      .bind(9, base.own_seq)
      .bind(10, time.wall_ms)
      .bind(11, std::int64_t{time.logical})
      .bind(12, store.device_.user);
  ERGON_TRY((*stmt)->run());
  ERGON_TRY(store.set_meta("next_seq", std::to_string(*seq + 1)));
  ERGON_TRY(store.set_meta("hlc_wall", std::to_string(time.wall_ms)));
  ERGON_TRY(store.set_meta("hlc_logical", std::to_string(time.logical)));
  return *seq;
}

namespace {

// The group values a resolution writes: none for the master, a parked change's, or the master's
// with the given fields.
core::Result<FieldValues> chosen_values(const ClientConflict& conflict, const Proposal& current,
                                        const Resolution& how) {
  auto id = changelog::conflict_id_text(conflict.id);
  if (how.take.empty()) {
    Proposal next = current;
    for (const auto& [name, value] : how.values) {
      const auto* spec = model::find_field(name);
      if (!spec || spec->group != conflict.group)
        return fail(ErrorCode::kInvalidArgument,
                    "'" + name + "' is not in the conflict's group '" + conflict.group + "'");
    }
    ERGON_TRY(model::apply_values(next, how.values));
    return model::group_values(next, conflict.group);
  }
  if (how.take == "master") return FieldValues{};
  if (how.take == "incoming") {
    if (conflict.incoming.size() == 1) return conflict.incoming.front().values;
    std::string ids;
    for (const auto& in : conflict.incoming) ids += (ids.empty() ? "" : ", ") + in.change_id;
    return fail(ErrorCode::kAmbiguous, "conflict " + id + " has " +
                                           std::to_string(conflict.incoming.size()) +
                                           " parked changes; take one by its id: " + ids);
  }
  for (const auto& in : conflict.incoming)
    if (in.change_id == how.take) return in.values;
  return fail(ErrorCode::kNotFound, "'" + how.take + "' is not a change parked in conflict " + id +
                                        "; see 'ergon conflicts'");
}

}  // namespace

core::Result<EditResult> LocalStore::resolve(std::string_view conflict_id, const Resolution& how) {
  auto id = changelog::parse_conflict_id(conflict_id);
  if (!id)
    return fail(ErrorCode::kUsage, "'" + std::string(conflict_id) +
                                       "' is not a conflict id; they look like 1.57 (see "
                                       "'ergon conflicts')");
  auto all = conflicts();
  if (!all) return fail(all.error());
  auto it = std::find_if(all->begin(), all->end(), [&](const ClientConflict& c) {
    return c.id == *id && c.status == ConflictStatus::kOpen;
  });
  if (it == all->end())
    return fail(ErrorCode::kNotFound, "no open conflict " + std::string(conflict_id) +
                                          " on this client; sync, then see 'ergon conflicts'");
  auto proposal = core::ProposalId::parse(it->entity);
  if (!proposal) return fail(ErrorCode::kCorrupt, proposal.error().message);
  auto current = get(*proposal);
  if (!current) return fail(current.error());
  auto values = chosen_values(*it, *current, how);
  if (!values) return fail(values.error());
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  auto settled = batch->settle(*it, *values);
  if (!settled) return fail(settled.error());
  ERGON_TRY(batch->commit());
  return settled;
}

core::Result<EditResult> EditBatch::settle(const ClientConflict& conflict,
                                           const FieldValues& values) {
  auto proposal = core::ProposalId::parse(conflict.entity);
  if (!proposal) return fail(ErrorCode::kCorrupt, proposal.error().message);
  auto current = store_->get(*proposal);
  if (!current) return fail(current.error());
  if (auto refused = merge::check_resolver(conflict.group, *current,
                                           store_->permission(merge::Role::kPlanning)))
    return fail(refused->code, refused->reason);
  Proposal next = *current;
  ERGON_TRY(model::apply_values(next, values));
  ERGON_TRY(model::validate_proposal(next, store_->reference_));
  auto change_values = values;
  change_values[std::string(changelog::kResolvesKey)] = changelog::conflict_id_text(conflict.id);
  auto base = horizon_for(conflict.entity);
  if (!base) return fail(base.error());
  auto seq = queue_change(changelog::EntityKind::kProposal, conflict.entity, conflict.group,
                          change_values, *base);
  if (!seq) return fail(seq.error());
  ERGON_TRY(store_->write_view(next));
  return EditResult{next, {*seq}};
}

core::Result<std::uint64_t> LocalStore::set_envelope(int year, const std::string& source,
                                                     model::Money amount) {
  // The user typed a source code: name it as typed, not the YEAR:SOURCE key made of it.
  if (!reference_.funding_source(source))
    return fail(ErrorCode::kInvalidArgument,
                "envelope: '" + source +
                    "' is not a funding source of funding-sources.csv (e.g. 1099, Ίδιοι πόροι)");
  changelog::Change change;
  change.entity = {changelog::EntityKind::kEnvelope, std::to_string(year) + ":" + source};
  change.group = std::string(merge::kEnvelopeGroup);
  change.values = {{"amount", amount.plain()}};
  if (auto refused =
          merge::check_envelope_change(change, permission(merge::Role::kBudget), reference_))
    return fail(refused->code, refused->reason);
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  auto base = batch->horizon_for(change.entity.key);
  if (!base) return fail(base.error());
  auto seq = batch->queue_change(changelog::EntityKind::kEnvelope, change.entity.key, "amount",
                                 change.values, *base);
  if (!seq) return fail(seq.error());
  ERGON_TRY(batch->commit());
  return seq;
}

}  // namespace ergon::client

// The device's own changes after they leave the editor: the outbox as the CLI lists it, and
// what the server rejected, kept with everything the user typed until the user decides — a
// rejected new proposal stays in the list until it is fixed and resent, or dismissed.

#include "client/store/local_sql.h"
#include "client/store/local_store.h"
#include "shared/changelog/field_value_io.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;

std::string short_id(const core::ProposalId& id) { return id.hex().substr(0, 8); }

}  // namespace

core::Result<std::vector<OutboxEntry>> LocalStore::read_outbox(storage::Statement& stmt) {
  return stmt.collect<OutboxEntry>([&](storage::Statement& s) -> core::Result<OutboxEntry> {
    OutboxEntry e;
    auto& c = e.change;
    c.device_id = device_.device_id;
    c.device_seq = s.column_uint64(0);
    auto kind = s.column_int64(1);
    auto base_kind = s.column_int64(5);
    auto status = parse_outbox_status(s.column_text(12));
    auto values = changelog::decode_values(s.column_blob(4));
    if (kind < 0 || kind > 3 || base_kind < 0 || base_kind > 2 || !status || !values)
      return fail(ErrorCode::kCorrupt,
                  "outbox change " + std::to_string(c.device_seq) + " is damaged");
    c.entity.kind = static_cast<changelog::EntityKind>(kind);
    c.entity.key = s.column_text(2);
    c.group = s.column_text(3);
    c.values = std::move(*values);
    c.base.kind = static_cast<changelog::Base::Kind>(base_kind);
    c.base.revision = {s.column_uint64(6), s.column_uint64(7)};
    c.base.own_seq = s.column_uint64(8);
    c.client_time = {s.column_int64(9), static_cast<std::uint32_t>(s.column_int64(10))};
    c.user = s.column_text(11);
    e.status = *status;
    e.reason = s.column_text(13);
    return e;
  });
}

core::Result<std::vector<OutboxEntry>> LocalStore::outbox(bool pending_only) {
  auto stmt = statement(pending_only ? sql::kOutboxPending : sql::kOutboxAll);
  if (!stmt) return fail(stmt.error());
  return read_outbox(**stmt);
}

core::Result<std::map<std::string, HeldCreate>> LocalStore::held_creates() {
  auto stmt = statement(sql::kHeldCreates);
  if (!stmt) return fail(stmt.error());
  std::map<std::string, HeldCreate> held;
  ERGON_TRY((*stmt)->for_each([&](storage::Statement& s) {
    held[s.column_text(1)] = HeldCreate{s.column_uint64(0), s.column_text(2)};
  }));
  return held;
}

core::Status LocalStore::check_not_held(const core::ProposalId& id) {
  auto held = held_creates();
  if (!held) return fail(held.error());
  auto it = held->find(id.hex());
  if (it == held->end()) return {};
  auto shown = short_id(id);
  return fail(ErrorCode::kInvalidArgument,
              "proposal " + shown + " was not accepted by the server (" + it->second.reason +
                  "); fix it and send it again with 'ergon resend " + shown +
                  " FIELD=VALUE…', or drop it with 'ergon dismiss " + shown + "'");
}

namespace {

// The view row of a proposal the server never had goes with its last kept change.
core::Status forget_unsent(storage::StatementCache& statements, const std::string& entity) {
  auto has = statements.get(sql::kServerHas);
  if (!has) return fail(has.error());
  (*has)->bind(1, entity);
  bool on_server = false;
  ERGON_TRY((*has)->for_each([&](storage::Statement&) { on_server = true; }));
  if (on_server) return {};
  auto remove = statements.get(sql::kViewDelete);
  if (!remove) return fail(remove.error());
  return (*remove)->bind(1, entity).run();
}

}  // namespace

core::Result<OutboxEntry> LocalStore::dismiss(std::uint64_t device_seq) {
  OutboxEntry dropped;
  auto ok = in_transaction([&]() -> core::Status {
    auto one = statement(sql::kOutboxOne);
    if (!one) return fail(one.error());
    (*one)->bind(1, device_seq);
    auto rows = read_outbox(**one);
    if (!rows) return fail(rows.error());
    if (rows->empty() || rows->front().status != OutboxStatus::kRejected)
      return fail(ErrorCode::kNotFound, "change " + std::to_string(device_seq) +
                                            " is not a rejected change; see 'ergon status'");
    dropped = std::move(rows->front());
    auto stmt = statement(sql::kOutboxDismiss);
    if (!stmt) return fail(stmt.error());
    ERGON_TRY((*stmt)->bind(1, device_seq).run());
    if (dropped.change.group != changelog::kCreateGroup) return {};
    return forget_unsent(*statements_, dropped.change.entity.key);
  });
  if (!ok) return fail(ok.error());
  return dropped;
}

core::Result<std::vector<OutboxEntry>> LocalStore::dismiss_proposal(const core::ProposalId& id) {
  std::vector<OutboxEntry> dropped;
  auto ok = in_transaction([&]() -> core::Status {
    auto of_entity = statement(sql::kOutboxOfEntity);
    if (!of_entity) return fail(of_entity.error());
    (*of_entity)->bind(1, id.hex());
    auto rows = read_outbox(**of_entity);
    if (!rows) return fail(rows.error());
    for (auto& e : *rows)
      if (e.status == OutboxStatus::kRejected) dropped.push_back(std::move(e));
    if (dropped.empty())
      return fail(ErrorCode::kNotFound, "proposal " + short_id(id) +
                                            " has no rejected changes to dismiss; see 'ergon "
                                            "status'");
    auto stmt = statement(sql::kOutboxDismissEntity);
    if (!stmt) return fail(stmt.error());
    ERGON_TRY((*stmt)->bind(1, id.hex()).run());
    return forget_unsent(*statements_, id.hex());
  });
  if (!ok) return fail(ok.error());
  return dropped;
}

core::Result<model::Proposal> LocalStore::resend(const core::ProposalId& id,
                                                 const model::FieldValues& fixes) {
  auto held = held_creates();
  if (!held) return fail(held.error());
  if (!held->contains(id.hex()))
    return fail(ErrorCode::kNotFound, "proposal " + short_id(id) +
                                          " is not a new proposal the server rejected; only "
                                          "those are resent (see 'ergon status')");
  for (const auto& [name, value] : fixes) {
    const auto* spec = model::find_field(name);
    if (spec && (spec->is_user_settable || name == "year")) continue;
    return fail(ErrorCode::kUsage, "'" + name +
                                       "' cannot be fixed with FIELD=VALUE; the fields are those "
                                       "of 'ergon edit', and year");
  }
  auto of_entity = statement(sql::kOutboxOfEntity);
  if (!of_entity) return fail(of_entity.error());
  (*of_entity)->bind(1, id.hex());
  auto rows = read_outbox(**of_entity);
  if (!rows) return fail(rows.error());
  for (const auto& e : *rows)
    if (e.status == OutboxStatus::kPending)
      return fail(ErrorCode::kInvalidArgument,
                  "proposal " + short_id(id) +
                      " still has changes waiting to be sent; run 'ergon sync' first");
  auto kept = get(id);
  if (!kept) return fail(kept.error());
  ERGON_TRY(model::apply_values(*kept, fixes));
  auto values = model::all_values(*kept);
  for (const char* fixed : {"id", "year", "state", "decision_reason"}) values.erase(fixed);
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  auto settle = statement(sql::kOutboxDismissEntity);
  if (!settle) return fail(settle.error());
  ERGON_TRY((*settle)->bind(1, id.hex()).run());
  auto created = batch->create(values, kept->year, id);
  if (!created) return fail(created.error());
  ERGON_TRY(batch->commit());
  return created;
}

core::Result<std::optional<MasterSetter>> LocalStore::master_setter(const std::string& entity,
                                                                    std::string_view group) {
  auto stmt = statement(sql::kServerRevisionWho);
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, entity).bind(2, group);
  std::optional<MasterSetter> who;
  ERGON_TRY((*stmt)->for_each([&](storage::Statement& s) {
    who = MasterSetter{{s.column_uint64(0), s.column_uint64(1)},
                       s.column_text(2),
                       s.column_text(3),
                       s.column_int64(4)};
  }));
  return who;
}

}  // namespace ergon::client

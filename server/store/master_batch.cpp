// The write path: a pushed batch in one transaction (log rows, chain, state, flags, digest).

#include <set>

#include "server/store/log_chain.h"
#include "server/store/master_store.h"
#include "server/store/store_connection.h"
#include "shared/core/numbers.h"
#include "shared/merge/flags.h"

namespace ergon::server {

using changelog::envelope_entity;
using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

// --- batches ---

struct MasterStore::Batch::State {
  MasterStore* store;
  std::optional<storage::Transaction> tx;
  std::uint64_t last_seq = 0;
  crypto::Digest head{};
  changelog::StateDigest digest;
  std::set<int> touched_years;
};

MasterStore::Batch::Batch(std::unique_ptr<State> state) : state_(std::move(state)) {}
MasterStore::Batch::Batch(Batch&&) noexcept = default;
MasterStore::Batch::~Batch() = default;

core::Result<MasterStore::Batch> MasterStore::begin_batch() {
  auto state = std::make_unique<Batch::State>();
  state->store = this;
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  state->tx.emplace(std::move(*tx));
  // Inside the write lock: other writers (admin commands) may have appended since we last looked.
  ERGON_TRY(impl_->query(
      "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        state->last_seq = s.column_uint64(0);
        auto hash = hash_column(s, 1);
        if (!hash) return fail(hash.error());
        state->head = *hash;
        return {};
      }));
  auto digest = impl_->meta("digest");
  if (!digest) return fail(digest.error());
  auto value = parse_digest(*digest);
  if (!value) return fail(value.error());
  state->digest = changelog::StateDigest(*value);
  return Batch(std::move(state));
}

core::Result<storage::Transaction> MasterStore::begin_group() {
  return impl_->db.begin_immediate();
}

core::Result<std::optional<changelog::Outcome>> MasterStore::Batch::outcome_of(
    const changelog::Change& change) {
  std::optional<changelog::Outcome> found;
  auto id = changelog::change_id(change);
  ERGON_TRY(state_->store->impl_->query(
      "SELECT epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq FROM log "
      "WHERE change_id = ?1",
      [&](storage::Statement& s) { s.bind(1, id); },
      [&](storage::Statement& s) -> core::Status {
        auto outcome = outcome_from_row(s, 0);
        if (!outcome) return fail(outcome.error());
        found = std::move(*outcome);
        found->change_id = id;
        found->is_duplicate = true;
        return {};
      }));
  return found;
}

namespace {

core::Result<merge::YearFigures> year_figures(StoreConnection& impl, int year);

// What the editor had seen: the horizon its base carries (protocol 2: the device's applied log
// position), or, for a change of protocol 1 based on its own earlier one, what that one had seen.
core::Result<Revision> horizon_of(StoreConnection& impl, const changelog::Change& change) {
  using Kind = changelog::Base::Kind;
  Revision horizon = change.base.revision;
  if (change.base.kind == Kind::kOwnChange)
    ERGON_TRY(impl.query(
        "SELECT horizon_epoch, horizon_seq FROM log WHERE device_id = ?1 AND device_seq = ?2",
        [&](storage::Statement& s) {
          s.bind(1, change.device_id.hex()).bind(2, change.base.own_seq);
        },
        [&](storage::Statement& s) {
          horizon = {s.column_uint64(0), s.column_uint64(1)};
        }));
  return horizon;
}

// Whether flag `id` (KIND:YEAR:KEY) is raised now, and how far its cause goes.
core::Result<std::optional<std::int64_t>> flag_level(StoreConnection& impl, const std::string& id) {
  auto year = merge::flag_year(id);
  if (!year) return std::optional<std::int64_t>{};
  auto figures = year_figures(impl, *year);
  if (!figures) return fail(figures.error());
  auto raised = merge::raise_flags(*figures);
  auto it = raised.find(id);
  if (it == raised.end()) return std::optional<std::int64_t>{};
  return std::optional(it->second.level);
}

}  // namespace

core::Result<merge::GroupState> MasterStore::Batch::group_state(const changelog::Change& change) {
  auto& impl = *state_->store->impl_;
  merge::GroupState gs;
  const auto& key = change.entity.key;
  auto horizon = horizon_of(impl, change);
  if (!horizon) return fail(horizon.error());
  gs.horizon = *horizon;
  gs.log_head = Revision{state_->store->info_.epoch, state_->last_seq};
  if (change.entity.kind == changelog::EntityKind::kFlag) {
    auto level = flag_level(impl, key);
    if (!level) return fail(level.error());
    gs.flag_level = *level;
    return gs;
  }
  bool is_envelope = change.entity.kind == changelog::EntityKind::kEnvelope;
  auto others = impl.groups_changed_by_others(is_envelope ? envelope_entity(key) : key,
                                              change.device_id, gs.horizon);
  if (!others) return fail(others.error());
  // A create is a revision of every group.
  auto changed = [&](std::string_view group) { return others->contains(std::string(group)); };
  if (is_envelope) {
    ERGON_TRY(impl.query(
        "SELECT amount FROM envelopes WHERE key = ?1",
        [&](storage::Statement& s) { s.bind(1, key); },
        [&](storage::Statement& s) { gs.envelope = model::Money::from_cents(s.column_int64(0)); }));
    gs.is_group_changed_by_other = changed("amount");
  } else {
    auto current = impl.proposal(key);
    if (!current) return fail(current.error());
    gs.current = std::move(*current);
    gs.is_group_changed_by_other = changed(change.group);
    gs.is_state_changed_by_other = changed(model::kStateGroup);
    gs.is_entity_changed_by_other = !others->empty();
  }
  if (auto id = changelog::resolves(change))
    ERGON_TRY(impl.query(
        "SELECT entity, grp, status FROM conflicts WHERE epoch = ?1 AND seq = ?2",
        [&](storage::Statement& s) { s.bind(1, id->epoch).bind(2, id->seq); },
        [&](storage::Statement& s) {
          gs.resolving = merge::ConflictRecord{*id, s.column_text(0), s.column_text(1),
                                               s.column_text(2) == "open"};
        }));
  // An open conflict this device already has a change parked in.
  ERGON_TRY(impl.query(
      // Driven from the few open conflicts of this group (CROSS JOIN keeps that order), never
      // from the device's whole history in the log.
      "SELECT c.epoch, c.seq FROM conflicts c CROSS JOIN log l ON l.conflict_epoch = c.epoch AND "
      "l.conflict_seq = c.seq WHERE c.entity = ?1 AND c.grp = ?2 AND c.status = 'open' AND "
      "l.conflict_seq > 0 AND l.device_id = ?3 LIMIT 1",
      [&](storage::Statement& s) {
        s.bind(1, key).bind(2, change.group).bind(3, change.device_id.hex());
      },
      [&](storage::Statement& s) {
        gs.parked = Revision{s.column_uint64(0), s.column_uint64(1)};
      }));
  return gs;
}

namespace {

// The conflict a parked change joins: the one its decision names, else the group's open one,
// else a new one opened at the change's own position.
core::Result<Revision> conflict_for(StoreConnection& impl, const changelog::Outcome& outcome,
                                    const merge::Decision& decision, const std::string& key,
                                    const std::string& group) {
  std::optional<Revision> conflict = decision.joins;
  if (!conflict)
    ERGON_TRY(impl.query(
        "SELECT epoch, seq FROM conflicts WHERE entity = ?1 AND grp = ?2 AND "
        "status = 'open' ORDER BY epoch, seq LIMIT 1",
        [&](storage::Statement& st) { st.bind(1, key).bind(2, group); },
        [&](storage::Statement& st) {
          conflict = Revision{st.column_uint64(0), st.column_uint64(1)};
        }));
  if (conflict) return *conflict;
  ERGON_TRY(impl.run("INSERT INTO conflicts (epoch, seq, entity, grp) VALUES (?1, ?2, ?3, ?4)",
                     [&](storage::Statement& st) {
                       st.bind(1, outcome.position.epoch)
                           .bind(2, outcome.position.seq)
                           .bind(3, key)
                           .bind(4, group);
                     }));
  return outcome.position;
}

// One append-only log row: the change, its outcome, what the editor had seen, the chain hash.
// Every column of the row, hashed as stored (server/store/log_chain.h) and written as hashed.
core::Result<crypto::Digest> insert_log_row(StoreConnection& impl, const crypto::Digest& previous,
                                            const changelog::Change& change,
                                            const changelog::Outcome& outcome,
                                            const Revision& horizon, const Provenance& by) {
  using chain::Cell;
  auto conflict = outcome.conflict.value_or(Revision{});
  auto cells = chain::in_order({
      {"seq", Cell::of(outcome.position.seq)},
      {"epoch", Cell::of(outcome.position.epoch)},
      {"change_id", Cell::text(outcome.change_id)},
      {"device_id", Cell::text(change.device_id.hex())},
      {"device_seq", Cell::of(change.device_seq)},
      {"entity_kind", Cell::of(std::int64_t{static_cast<int>(change.entity.kind)})},
      {"entity", Cell::text(change.entity.key)},
      {"grp", Cell::text(change.group)},
      {"vals", Cell::blob(changelog::encode_values(change.values))},
      {"base_kind", Cell::of(std::int64_t{static_cast<int>(change.base.kind)})},
      {"base_epoch", Cell::of(change.base.revision.epoch)},
      {"base_seq", Cell::of(change.base.revision.seq)},
      {"base_own_seq", Cell::of(change.base.own_seq)},
      {"hlc_wall", Cell::of(change.client_time.wall_ms)},
      {"hlc_logical", Cell::of(std::int64_t{change.client_time.logical})},
      {"user", Cell::text(change.user)},
      {"outcome", Cell::text(changelog::to_string(outcome.kind))},
      {"reason", Cell::text(outcome.reason)},
      {"new_revision", Cell::of(std::int64_t{outcome.is_new_revision ? 1 : 0})},
      {"conflict_epoch", Cell::of(conflict.epoch)},
      {"conflict_seq", Cell::of(conflict.seq)},
      {"horizon_epoch", Cell::of(horizon.epoch)},
      {"horizon_seq", Cell::of(horizon.seq)},
      {"received_ms", Cell::of(impl.clock->now_ms())},
      {"canonical", Cell::blob(changelog::canonical_bytes(change))},
      {"enrolment", Cell::text(by.enrolment)},
      {"role", Cell::text(change.entity.kind == changelog::EntityKind::kServer
                              ? "server"
                              : merge::to_string(by.role))},
      {"directorate", Cell::text(by.directorate)},
      {"chain_version", Cell::of(chain::kVersion)},
  });
  if (!cells) return fail(cells.error());
  auto hash = chain::step(previous, *cells);
  // One constant text, built once from the chain's column list.
  static const std::string insert = [] {
    std::string sql = "INSERT INTO log (" + chain::column_list() + ", hash) VALUES (";
    for (std::size_t i = 1; i <= chain::columns().size() + 1; ++i)
      sql += (i == 1 ? "?" : ", ?") + std::to_string(i);
    return sql + ")";
  }();
  ERGON_TRY(impl.run(insert, [&](storage::Statement& st) {
    chain::bind_cells(st, *cells);
    st.bind(static_cast<int>(cells->size() + 1), storage::Blob{crypto::as_bytes(hash)});
  }));
  return hash;
}

core::Status set_revision(StoreConnection& impl, const std::string& entity, std::string_view group,
                          const changelog::Change& change, const Revision& at) {
  // The row's previous revision becomes "the latest by another device" when another device
  // writes now (schema step 9); SET reads the row as it was.
  return impl.run(
      "INSERT INTO revisions (entity, grp, epoch, seq, device_id, device_seq) VALUES (?1, ?2, ?3, "
      "?4, ?5, ?6) ON CONFLICT (entity, grp) DO UPDATE SET other_epoch = CASE WHEN device_id = "
      "excluded.device_id THEN other_epoch ELSE epoch END, other_seq = CASE WHEN device_id = "
      "excluded.device_id THEN other_seq ELSE seq END, epoch = excluded.epoch, seq = "
      "excluded.seq, device_id = excluded.device_id, device_seq = excluded.device_seq",
      [&](storage::Statement& st) {
        st.bind(1, entity)
            .bind(2, group)
            .bind(3, at.epoch)
            .bind(4, at.seq)
            .bind(5, change.device_id.hex())
            .bind(6, change.device_seq);
      });
}

}  // namespace

core::Result<changelog::Outcome> MasterStore::Batch::append(const changelog::Change& change,
                                                            const merge::Decision& decision,
                                                            const Provenance& by) {
  auto& impl = *state_->store->impl_;
  auto& s = *state_;
  changelog::Outcome outcome;
  outcome.change_id = changelog::change_id(change);
  outcome.kind = decision.kind;
  outcome.position = {s.store->info_.epoch, s.last_seq + 1};
  outcome.reason = decision.reason;
  outcome.is_new_revision = decision.is_new_revision;
  if (decision.kind == OutcomeKind::kConflict) {
    auto conflict = conflict_for(impl, outcome, decision, change.entity.key, change.group);
    if (!conflict) return fail(conflict.error());
    outcome.conflict = *conflict;
  }
  // What the editor had seen, kept so its later changes based on this one know it too.
  auto gs = group_state(change);
  if (!gs) return fail(gs.error());
  auto hash = insert_log_row(impl, s.head, change, outcome, gs->horizon, by);
  if (!hash) return fail(hash.error());
  s.last_seq = outcome.position.seq;
  s.head = *hash;
  if (decision.kind == OutcomeKind::kAccepted && decision.is_new_revision)
    ERGON_TRY(apply_accepted(change, decision, *gs, outcome.position));
  if (decision.kind == OutcomeKind::kAccepted && decision.closes)
    ERGON_TRY(impl.run("UPDATE conflicts SET status = 'resolved' WHERE epoch = ?1 AND seq = ?2",
                       [&](storage::Statement& st) {
                         st.bind(1, decision.closes->epoch).bind(2, decision.closes->seq);
                       }));
  return outcome;
}

core::Status MasterStore::Batch::apply_accepted(const changelog::Change& change,
                                                const merge::Decision& decision,
                                                const merge::GroupState& before,
                                                const Revision& at) {
  auto& impl = *state_->store->impl_;
  auto& s = *state_;
  const auto& key = change.entity.key;
  if (change.entity.kind == changelog::EntityKind::kFlag) {
    auto reason = change.values.find("reason");
    return impl.run(
        "UPDATE flags SET status = 'acknowledged', acknowledged_by = ?2, reason = ?3, ack_level = "
        "?4 WHERE id = ?1",
        [&](storage::Statement& st) {
          st.bind(1, key)
              .bind(2, change.user)
              .bind(3, reason == change.values.end() ? std::string() : reason->second)
              .bind(4, before.flag_level.value_or(0));
        });
  }
  if (decision.envelope) {
    if (before.envelope) s.digest.toggle(envelope_entity(key), "amount", before.envelope->plain());
    s.digest.toggle(envelope_entity(key), "amount", decision.envelope->plain());
    auto colon = key.find(':');
    auto year = core::parse_number<int>(std::string_view(key).substr(0, colon), "envelope year");
    if (!year) return fail(ErrorCode::kCorrupt, year.error().message);
    ERGON_TRY(impl.run(
        "INSERT OR REPLACE INTO envelopes (key, year, source, amount) VALUES (?1, ?2, ?3, ?4)",
        [&](storage::Statement& st) {
          st.bind(1, key)
              .bind(2, *year)
              .bind(3, key.substr(colon + 1))
              .bind(4, decision.envelope->cents());
        }));
    s.touched_years.insert(*year);
    return set_revision(impl, envelope_entity(key), "amount", change, at);
  }
  const auto& merged = *decision.merged;
  auto after = model::all_values(merged);
  s.digest.replace(key, before.current ? model::all_values(*before.current) : model::FieldValues{},
                   after);
  auto blob = changelog::encode_values(after);
  ERGON_TRY(impl.run(
      "INSERT OR REPLACE INTO proposals (id, year, directorate, ka_code, state, vals) VALUES (?1, "
      "?2, ?3, ?4, ?5, ?6)",
      [&](storage::Statement& st) {
        st.bind(1, key)
            .bind(2, merged.year)
            .bind(3, merged.directorate)
            .bind(4, merged.ka_code ? merged.ka_code->canonical() : std::string())
            .bind(5, model::to_string(merged.state))
            .bind(6, storage::Blob{blob});
      }));
  s.touched_years.insert(merged.year);
  if (change.group != changelog::kCreateGroup)
    return set_revision(impl, key, change.group, change, at);
  for (auto g : model::all_groups()) ERGON_TRY(set_revision(impl, key, g, change, at));
  return {};
}

core::Status MasterStore::Batch::set_high_water_mark(const core::DeviceId& client_device_id,
                                                     std::uint64_t seq) {
  return state_->store->impl_->run(
      "UPDATE devices SET high_water = ?2 WHERE client_device_id = ?1",
      [&](storage::Statement& s) { s.bind(1, client_device_id.hex()).bind(2, seq); });
}

namespace {

// What the cross-row checks look at in `year`, read inside the batch's transaction.
// The proposals of `year` matching `where` (an SQL condition on the proposals table).
core::Result<std::vector<model::Proposal>> proposals_where(StoreConnection& impl, int year,
                                                           std::string_view where) {
  std::vector<std::string> blobs;
  ERGON_TRY(impl.query(
      "SELECT vals FROM proposals WHERE year = ?1 AND " + std::string(where),
      [&](storage::Statement& st) { st.bind(1, year); },
      [&](storage::Statement& st) { blobs.push_back(st.column_blob(0)); }));
  std::vector<model::Proposal> out;
  for (const auto& blob : blobs) {
    auto values = changelog::decode_values(blob);
    if (!values) return fail(values.error());
    model::Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok)
      return fail(ErrorCode::kCorrupt, "a stored proposal: " + ok.error().message);
    out.push_back(std::move(p));
  }
  return out;
}

// Last year's continuing works and this year's predecessors (only read when there are some).
core::Status add_continuity(StoreConnection& impl, merge::YearFigures& figures) {
  auto before = proposals_where(impl, figures.year - 1, "state = 'included'");
  if (!before) return fail(before.error());
  merge::add_continuity(figures, *before);
  if (figures.continuing_before.empty()) return {};
  auto now = proposals_where(impl, figures.year, "state NOT IN ('withdrawn', 'rejected')");
  if (!now) return fail(now.error());
  merge::add_continuity(figures, *now);
  return {};
}

core::Result<merge::YearFigures> year_figures(StoreConnection& impl, int year) {
  merge::YearFigures figures;
  figures.year = year;
  auto bind_year = [&](storage::Statement& st) { st.bind(1, year); };
  ERGON_TRY(impl.query(
      "SELECT ka_code, count(*) FROM proposals WHERE year = ?1 AND ka_code != '' AND state NOT "
      "IN ('withdrawn', 'rejected') GROUP BY ka_code HAVING count(*) > 1",
      bind_year, [&](storage::Statement& st) {
        figures.live_ka_uses[st.column_text(0)] = st.column_int64(1);
      }));
  ERGON_TRY(impl.query("SELECT source, amount FROM envelopes WHERE year = ?1", bind_year,
                       [&](storage::Statement& st) {
                         figures.envelopes[st.column_text(0)] =
                             model::Money::from_cents(st.column_int64(1));
                       }));
  auto included = proposals_where(impl, year, "state = 'included'");
  if (!included) return fail(included.error());
  figures.included = std::move(*included);
  ERGON_TRY(add_continuity(impl, figures));
  return figures;
}

// Writes how the year's stored flags move to what its figures raise now.
core::Status write_flags(StoreConnection& impl, int year, std::uint64_t last_seq) {
  auto figures = year_figures(impl, year);
  if (!figures) return fail(figures.error());
  std::map<std::string, merge::StoredFlag> stored;
  ERGON_TRY(impl.query(
      "SELECT id, status, ack_level FROM flags WHERE year = ?1",
      [&](storage::Statement& st) { st.bind(1, year); },
      [&](storage::Statement& st) -> core::Status {
        auto status = merge::parse_flag_status(st.column_text(1));
        if (!status) return fail(status.error());
        stored[st.column_text(0)] = {*status, st.column_int64(2)};
        return {};
      }));
  auto update = merge::update_flags(merge::raise_flags(*figures), stored);
  for (const auto& flag : update.refreshed)
    ERGON_TRY(impl.run("UPDATE flags SET detail = ?3 WHERE id = ?1 AND year = ?2",
                       [&](storage::Statement& st) {
                         st.bind(1, flag.first).bind(2, year).bind(3, flag.second);
                       }));
  for (const auto& flag : update.opened)
    ERGON_TRY(
        impl.run("INSERT OR REPLACE INTO flags (id, year, status, detail, raised_seq) VALUES "
                 "(?1, ?2, 'open', ?3, ?4)",
                 [&](storage::Statement& st) {
                   st.bind(1, flag.first).bind(2, year).bind(3, flag.second).bind(4, last_seq);
                 }));
  for (const auto& flag : update.reopened)
    ERGON_TRY(impl.run("UPDATE flags SET status = 'open', detail = ?3 WHERE id = ?1 AND year = ?2",
                       [&](storage::Statement& st) {
                         st.bind(1, flag.first).bind(2, year).bind(3, flag.second);
                       }));
  for (const auto& id : update.cleared)
    ERGON_TRY(impl.run("UPDATE flags SET status = 'cleared' WHERE id = ?1 AND year = ?2",
                       [&](storage::Statement& st) { st.bind(1, id).bind(2, year); }));
  return {};
}

}  // namespace

core::Status MasterStore::Batch::commit() {
  auto& impl = *state_->store->impl_;
  // Cross-row checks raise flags, they never reject (DESIGN.md): recomputed per touched year,
  // and the year after it when that is open (its continuing works come from this one).
  std::set<int> years = state_->touched_years;
  for (int year : state_->touched_years) {
    bool next_is_open = false;
    ERGON_TRY(impl.query(
        "SELECT 1 FROM years WHERE year = ?1", [&](storage::Statement& s) { s.bind(1, year + 1); },
        [&](storage::Statement&) { next_is_open = true; }));
    if (next_is_open) years.insert(year + 1);
  }
  for (int year : years) ERGON_TRY(write_flags(impl, year, state_->last_seq));
  ERGON_TRY(impl.set_meta("digest", state_->digest.hex()));
  return state_->tx->commit();
}

}  // namespace ergon::server

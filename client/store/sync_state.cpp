// The client side of the change model: applying the server's snapshot and log pages to the last
// synced state, recording the outcomes of the device's own changes, and rebuilding the view.

#include "client/store/sync_state.h"

#include <algorithm>
#include <fstream>

#include "client/store/local_schema.h"
#include "client/store/local_sql.h"
#include "client/store/revision_object.h"
#include "shared/changelog/field_value_io.h"
#include "shared/core/numbers.h"
#include "shared/core/output_file.h"
#include "shared/model/fields.h"

namespace ergon::client {
namespace {

using changelog::OutcomeKind;
using core::ErrorCode;
using core::fail;

core::Result<model::Proposal> decode_synced(std::string_view blob, const std::string& id) {
  auto values = changelog::decode_values(blob);
  model::Proposal p;
  if (values)
    if (auto ok = model::apply_values(p, *values); ok) return p;
  return fail(ErrorCode::kCorrupt, "synced proposal " + id + " is damaged");
}

// The user's own pending edits over the server's state, in the order they were made; and a new
// proposal the server rejected, kept with what the user typed until it is resent or dismissed.
core::Status replay_outbox(const std::vector<OutboxEntry>& changes,
                           const std::set<std::string>& on_server,
                           std::map<std::string, model::Proposal>& view,
                           std::set<std::string>& replayed) {
  for (const auto& e : changes) {
    const auto& key = e.change.entity.key;
    if (e.change.entity.kind != changelog::EntityKind::kProposal) continue;
    if (e.status == OutboxStatus::kRejected && on_server.contains(key)) continue;
    auto it = view.find(key);
    if (it == view.end()) {
      if (e.change.group != changelog::kCreateGroup) continue;
      it = view.emplace(key, model::Proposal{}).first;
    }
    ERGON_TRY(model::apply_values(it->second, changelog::field_values(e.change)));
    replayed.insert(key);
  }
  return {};
}

}  // namespace

core::Result<std::uint64_t> SyncState::cursor() {
  auto value = store_.meta("cursor");
  if (!value && value.error().code == ErrorCode::kNotFound) return std::uint64_t{0};
  if (!value) return fail(value.error());
  auto number = core::parse_number<std::uint64_t>(*value, "the home's sync cursor");
  if (!number) return fail(ErrorCode::kCorrupt, number.error().message);
  return number;
}

core::Result<std::uint64_t> SyncState::held_proposals() {
  auto stmt = store_.statement("SELECT count(*) FROM server_proposals");
  if (!stmt) return fail(stmt.error());
  auto counts = (*stmt)->collect<std::uint64_t>([](auto& s) { return s.column_uint64(0); });
  if (!counts) return fail(counts.error());
  return counts->empty() ? 0 : counts->front();
}

core::Result<changelog::Revision> SyncState::applied_position() {
  auto seq = cursor();
  if (!seq) return fail(seq.error());
  if (*seq == 0) return changelog::Revision{};
  // The epoch is recorded at the end of a sync; a sync cut short in a new epoch leaves the
  // older one, which compares lower: the position is never overstated.
  auto epoch = store_.setting("epoch");
  auto number = core::parse_number<std::uint64_t>(epoch.empty() ? "1" : epoch, "the home's epoch");
  if (!number) return fail(ErrorCode::kCorrupt, number.error().message);
  return changelog::Revision{*number, *seq};
}

core::Result<std::size_t> SyncState::requeue_after(std::uint64_t high_water_mark,
                                                   const changelog::Revision& log_head) {
  std::size_t count = 0;
  ERGON_TRY(store_.in_transaction([&]() -> core::Status {
    auto stmt = store_.statement(sql::kOutboxRequeue);
    if (!stmt) return fail(stmt.error());
    ERGON_TRY((*stmt)->bind(1, high_water_mark).run());
    count = static_cast<std::size_t>(store_.db_->changes());
    auto clamp = store_.statement(sql::kOutboxClampHorizons);
    if (!clamp) return fail(clamp.error());
    ERGON_TRY((*clamp)->bind(1, log_head.epoch).bind(2, log_head.seq).run());
    return rebuild_view();
  }));
  return count;
}

core::Status SyncState::replace_reference(const std::map<std::string, std::string>& files) {
  auto reference = model::ReferenceData::from_files(files);
  if (!reference) return fail(reference.error());
  for (const auto& [name, content] : files) {
    auto known = model::ReferenceData::file_names();
    if (std::find(known.begin(), known.end(), name) == known.end()) continue;
    auto path = store_.home_ / kReferenceFolder / name;
    ERGON_TRY(core::write_file(path, content, core::FileMode::kShared));
  }
  store_.reference_ = std::move(*reference);
  return {};
}

core::Status SyncState::set_identity(merge::Role role, const std::string& directorate, int year,
                                     const std::vector<merge::YearStage>& years) {
  ERGON_TRY(store_.in_transaction([&]() -> core::Status {
    ERGON_TRY(store_.set_meta("role", merge::to_string(role)));
    ERGON_TRY(store_.set_meta("directorate", directorate));
    ERGON_TRY(store_.set_meta("years", years_text(years)));
    return store_.set_meta("year", std::to_string(year));
  }));
  store_.device_.role = role;
  store_.device_.directorate = directorate;
  store_.device_.year = year;
  store_.device_.years = years;
  return {};
}

core::Result<std::vector<changelog::Change>> SyncState::pending_changes(std::size_t limit) {
  auto all = store_.outbox(true);
  if (!all) return fail(all.error());
  std::vector<changelog::Change> out;
  for (auto& e : *all) {
    if (out.size() == limit) break;
    out.push_back(std::move(e.change));
  }
  return out;
}

core::Result<std::optional<model::Proposal>> SyncState::server_proposal(const std::string& id) {
  auto stmt = store_.statement(sql::kServerProposal);
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, id);
  auto found = (*stmt)->collect<model::Proposal>(
      [&](storage::Statement& s) { return decode_synced(s.column_blob(0), id); });
  if (!found) return fail(found.error());
  if (found->empty()) return std::optional<model::Proposal>{};
  return std::optional<model::Proposal>(std::move(found->front()));
}

core::Status SyncState::put_server_proposal(const model::Proposal& p, const model::Proposal* before,
                                            changelog::StateDigest& digest, std::string* stored) {
  auto stmt = store_.statement(sql::kServerProposalPut);
  if (!stmt) return fail(stmt.error());
  auto after = model::all_values(p);
  auto id = p.id.hex();
  digest.replace(id, before ? model::all_values(*before) : model::FieldValues{}, after);
  auto blob = changelog::encode_values(after);
  ERGON_TRY((*stmt)->bind(1, id).bind(2, storage::Blob{blob}).run());
  if (stored) *stored = std::move(blob);
  return {};
}

core::Status SyncState::put_server_envelope(const std::string& key, model::Money amount,
                                            changelog::StateDigest& digest) {
  auto entity = changelog::envelope_entity(key);
  auto held = store_.statement(sql::kServerEnvelope);
  if (!held) return fail(held.error());
  (*held)->bind(1, key);
  ERGON_TRY((*held)->for_each([&](storage::Statement& s) {
    digest.toggle(entity, "amount", model::Money::from_cents(s.column_int64(0)).plain());
  }));
  digest.toggle(entity, "amount", amount.plain());
  auto stmt = store_.statement(sql::kServerEnvelopePut);
  if (!stmt) return fail(stmt.error());
  return (*stmt)->bind(1, key).bind(2, amount.cents()).run();
}

core::Result<changelog::StateDigest> SyncState::kept_digest() {
  auto kept = store_.meta("server_digest");
  if (!kept && kept.error().code == ErrorCode::kNotFound) return server_digest();
  if (!kept) return fail(kept.error());
  auto value = crypto::digest_from_hex(*kept);
  if (!value) return fail(ErrorCode::kCorrupt, "the digest this home keeps is damaged");
  return changelog::StateDigest(*value);
}

core::Status SyncState::keep_digest(const changelog::StateDigest& digest) {
  return store_.set_meta("server_digest", digest.hex());
}

core::Status SyncState::merge_server_revisions(const std::string& entity, RevisionObject& groups) {
  auto stmt = store_.statement(sql::kServerRevisionsMerge);
  if (!stmt) return fail(stmt.error());
  return (*stmt)->bind(1, entity).bind(2, groups.take()).run();
}

core::Status SyncState::set_server_revisions(const std::string& entity,
                                             std::span<const std::string_view> groups,
                                             const changelog::GroupRevision& revision,
                                             const changelog::Change& change) {
  RevisionObject object;
  for (auto group : groups) object.add(group, revision, change.user, change.client_time.wall_ms);
  return merge_server_revisions(entity, object);
}

core::Status SyncState::put_revision_rows(const std::vector<changelog::RevisionRow>& rows) {
  // The server sends an entity's rows together: they become one stored row. Rows of one entity
  // apart from each other would merge into it all the same.
  RevisionObject object;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    object.add(rows[i].group, rows[i].revision, rows[i].user, rows[i].at_ms);
    if (i + 1 == rows.size() || rows[i + 1].entity != rows[i].entity)
      ERGON_TRY(merge_server_revisions(rows[i].entity, object));
  }
  return {};
}

core::Status SyncState::apply_accepted(const changelog::LogEntry& entry,
                                       changelog::StateDigest& digest) {
  const auto& change = entry.change;
  changelog::GroupRevision revision{entry.outcome.position, change.device_id, change.device_seq};
  if (change.entity.kind == changelog::EntityKind::kEnvelope) {
    auto it = change.values.find("amount");
    auto amount = model::Money::parse(it == change.values.end() ? "" : it->second);
    if (!amount)
      return fail(ErrorCode::kCorrupt, "envelope from the server: " + amount.error().message);
    ERGON_TRY(put_server_envelope(change.entity.key, *amount, digest));
    const std::string_view amount_group[] = {"amount"};
    return set_server_revisions(changelog::envelope_entity(change.entity.key), amount_group,
                                revision, change);
  }
  if (change.entity.kind != changelog::EntityKind::kProposal) return {};
  auto current = server_proposal(change.entity.key);
  if (!current) return fail(current.error());
  if (!*current && change.group != changelog::kCreateGroup)
    return fail(ErrorCode::kCorrupt, "the server changed proposal " + change.entity.key +
                                         " which this client never received; run sync again to "
                                         "bootstrap");
  model::Proposal p;
  if (change.group != changelog::kCreateGroup) p = **current;
  ERGON_TRY(model::apply_values(p, changelog::field_values(change)));
  ERGON_TRY(put_server_proposal(p, current->has_value() ? &**current : nullptr, digest));
  if (change.group == changelog::kCreateGroup)
    return set_server_revisions(change.entity.key, model::all_groups(), revision, change);
  const std::string_view group[] = {change.group};
  return set_server_revisions(change.entity.key, group, revision, change);
}

core::Result<PullResult> SyncState::apply_log(const std::vector<changelog::LogEntry>& entries) {
  PullResult result;
  auto ok = store_.in_transaction([&]() -> core::Status {
    auto position = cursor();
    if (!position) return fail(position.error());
    auto digest = kept_digest();
    if (!digest) return fail(digest.error());
    std::set<std::string> touched;
    const changelog::LogEntry* last = nullptr;
    for (const auto& entry : entries) {
      // Entries at or below the cursor are in the state already (a page seen before, or a
      // snapshot); only the outcome of an own change may still be news.
      bool is_new = entry.outcome.position.seq > *position;
      bool is_own = entry.change.device_id == store_.device_.device_id;
      if (!is_new && !is_own) continue;
      if (entry.change.entity.kind == changelog::EntityKind::kProposal)
        touched.insert(entry.change.entity.key);
      ERGON_TRY(record_entry(entry, is_new ? &*digest : nullptr, result));
      if (!is_new) continue;
      *position = entry.outcome.position.seq;
      last = &entry;
      ++result.entries;
    }
    // The cursor, its chain head and the digest move once a page, with the page.
    if (last) {
      ERGON_TRY(store_.set_meta("cursor", std::to_string(*position)));
      ERGON_TRY(store_.set_meta("chain_head", crypto::to_hex(last->hash)));
      ERGON_TRY(keep_digest(*digest));
    }
    return rebuild_view(&touched);
  });
  if (!ok) return fail(ok.error());
  return result;
}

core::Status SyncState::park_conflict(const changelog::LogEntry& entry) {
  const auto& o = entry.outcome;
  auto park = store_.statement(sql::kConflictPark);
  if (!park) return fail(park.error());
  ERGON_TRY((*park)
                ->bind(1, o.conflict->epoch)
                .bind(2, o.conflict->seq)
                .bind(3, entry.change.entity.key)
                .bind(4, entry.change.group)
                .run());
  auto parked = store_.statement(sql::kConflictChangePark);
  if (!parked) return fail(parked.error());
  auto blob = changelog::encode_values(entry.change.values);
  return (*parked)
      ->bind(1, o.change_id)
      .bind(2, o.conflict->epoch)
      .bind(3, o.conflict->seq)
      .bind(4, entry.change.device_id.hex())
      .bind(5, entry.change.user)
      .bind(6, entry.change.client_time.wall_ms)
      .bind(7, storage::Blob{blob})
      .run();
}

core::Status SyncState::record_entry(const changelog::LogEntry& entry,
                                     changelog::StateDigest* digest, PullResult& result) {
  const auto& o = entry.outcome;
  if (digest && o.kind == OutcomeKind::kAccepted && o.is_new_revision)
    ERGON_TRY(apply_accepted(entry, *digest));
  if (o.kind == OutcomeKind::kConflict && o.conflict) ERGON_TRY(park_conflict(entry));
  if (auto settled = changelog::resolves(entry.change);
      settled && o.kind == OutcomeKind::kAccepted) {
    auto settle = store_.statement(sql::kConflictSettle);
    if (!settle) return fail(settle.error());
    ERGON_TRY((*settle)->bind(1, settled->epoch).bind(2, settled->seq).run());
  }
  if (entry.change.entity.kind == changelog::EntityKind::kFlag && o.kind == OutcomeKind::kAccepted)
    ERGON_TRY(record_flag_ack(entry.change));
  if (entry.change.device_id != store_.device_.device_id) return {};
  auto mark = store_.statement(sql::kOutboxMark);
  if (!mark) return fail(mark.error());
  ERGON_TRY((*mark)
                ->bind(1, entry.change.device_seq)
                .bind(2, changelog::to_string(o.kind))
                .bind(3, o.reason)
                .run());
  if (store_.db_->changes() == 0) return {};  // learnt before
  if (o.kind == OutcomeKind::kAccepted) ++result.own_accepted;
  if (o.kind == OutcomeKind::kConflict) ++result.own_conflicts;
  if (o.kind == OutcomeKind::kRejected) ++result.own_rejected;
  return {};
}

core::Status SyncState::record_flag_ack(const changelog::Change& ack) {
  auto value = [&](const char* name) {
    auto it = ack.values.find(name);
    return it == ack.values.end() ? std::string() : it->second;
  };
  auto level = core::parse_number<std::int64_t>(value("level"), "level");
  auto stmt = store_.statement(sql::kFlagAckPut);
  if (!stmt) return fail(stmt.error());
  return (*stmt)
      ->bind(1, ack.entity.key)
      .bind(2, ack.user)
      .bind(3, value("reason"))
      .bind(4, ack.client_time.wall_ms)
      .bind(5, level.value_or(0))
      .run();
}

core::Status SyncState::apply_snapshot(const changelog::Snapshot& snapshot) {
  return store_.in_transaction([&]() -> core::Status {
    ERGON_TRY(store_.db_->exec(sql::kServerStateClear));
    changelog::StateDigest digest;
    std::map<std::string, std::string> stored;  // the view rows of unedited proposals reuse them
    for (const auto& p : snapshot.proposals)
      ERGON_TRY(put_server_proposal(p, nullptr, digest, &stored[p.id.hex()]));
    for (const auto& [key, amount] : snapshot.envelopes)
      ERGON_TRY(put_server_envelope(key, amount, digest));
    ERGON_TRY(put_revision_rows(snapshot.revisions));
    ERGON_TRY(store_.set_meta("cursor", std::to_string(snapshot.cursor)));
    ERGON_TRY(store_.set_meta("chain_head", crypto::to_hex(snapshot.chain_head)));
    ERGON_TRY(keep_digest(digest));
    PullResult ignored;
    for (const auto& entry : snapshot.parked) ERGON_TRY(record_entry(entry, nullptr, ignored));
    std::map<std::string, model::Proposal> fresh;  // the view starts from what is in hand
    for (const auto& p : snapshot.proposals) fresh.emplace(p.id.hex(), p);
    return rebuild_view_from(nullptr, std::move(fresh), &stored);
  });
}

core::Status SyncState::apply_snapshot_part(const changelog::Snapshot& part) {
  return store_.in_transaction([&]() -> core::Status {
    auto digest = kept_digest();
    if (!digest) return fail(digest.error());
    std::set<std::string> touched;
    std::map<std::string, model::Proposal> fresh;  // the view starts from what is in hand
    std::map<std::string, std::string> stored;     // the view rows of unedited proposals reuse them
    for (const auto& p : part.proposals) {
      auto id = p.id.hex();
      auto before = server_proposal(id);
      if (!before) return fail(before.error());
      ERGON_TRY(
          put_server_proposal(p, before->has_value() ? &**before : nullptr, *digest, &stored[id]));
      touched.insert(id);
      fresh.emplace(std::move(id), p);
    }
    ERGON_TRY(put_revision_rows(part.revisions));
    ERGON_TRY(keep_digest(*digest));
    return rebuild_view_from(&touched, std::move(fresh), &stored);
  });
}

core::Status SyncState::rebuild_view(const std::set<std::string>* only) {
  // A page touches a few proposals: rebuild just those, not the whole programme.
  std::map<std::string, model::Proposal> server;
  if (only) {
    for (const auto& id : *only) {
      auto p = server_proposal(id);
      if (!p) return fail(p.error());
      if (*p) server.emplace(id, std::move(**p));
    }
  } else {
    auto all = store_.statement(sql::kServerProposals);
    if (!all) return fail(all.error());
    ERGON_TRY((*all)->for_each([&](storage::Statement& s) -> core::Status {
      auto p = decode_synced(s.column_blob(1), s.column_text(0));
      if (!p) return fail(p.error());
      server.emplace(s.column_text(0), std::move(*p));
      return {};
    }));
  }
  return rebuild_view_from(only, std::move(server));
}

core::Status SyncState::rebuild_view_from(const std::set<std::string>* only,
                                          std::map<std::string, model::Proposal> view,
                                          const std::map<std::string, std::string>* stored) {
  if (only) {
    auto remove = store_.statement(sql::kViewDelete);
    if (!remove) return fail(remove.error());
    for (const auto& id : *only) {
      (*remove)->reset();
      ERGON_TRY((*remove)->bind(1, id).run());
    }
  } else {
    ERGON_TRY(store_.db_->exec(sql::kViewDeleteAll));
  }
  std::set<std::string> on_server, replayed;
  for (const auto& [id, p] : view) on_server.insert(id);
  // A page reads the outbox of the proposals it touched only, never the whole outbox.
  auto replay = [&](const std::vector<OutboxEntry>& changes) {
    return replay_outbox(changes, on_server, view, replayed);
  };
  if (only) {
    auto of_entity = store_.statement(sql::kOutboxReplayEntity);
    if (!of_entity) return fail(of_entity.error());
    for (const auto& id : *only) {
      (*of_entity)->reset();
      (*of_entity)->bind(1, id);
      auto changes = store_.read_outbox(**of_entity);
      if (!changes) return fail(changes.error());
      ERGON_TRY(replay(*changes));
    }
  } else {
    auto all = store_.statement(sql::kOutboxReplay);
    if (!all) return fail(all.error());
    auto changes = store_.read_outbox(**all);
    if (!changes) return fail(changes.error());
    ERGON_TRY(replay(*changes));
  }
  for (const auto& [id, p] : view) {
    const std::string* encoded = nullptr;
    if (stored && !replayed.contains(id))
      if (auto it = stored->find(id); it != stored->end()) encoded = &it->second;
    ERGON_TRY(store_.write_view(p, encoded));
  }
  return {};
}

core::Result<std::optional<std::pair<changelog::Revision, crypto::Digest>>> SyncState::held_head() {
  using Held = std::optional<std::pair<changelog::Revision, crypto::Digest>>;
  auto position = applied_position();
  if (!position) return fail(position.error());
  if (position->seq == 0) return Held{};
  auto hash = store_.meta("chain_head");
  if (!hash && hash.error().code == ErrorCode::kNotFound) return Held{};
  if (!hash) return fail(hash.error());
  auto parsed = changelog::parse_head(std::to_string(position->epoch) + "." +
                                      std::to_string(position->seq) + ":" + *hash);
  if (!parsed) return fail(ErrorCode::kCorrupt, "the chain head this home keeps is damaged");
  return Held{*parsed};
}

core::Result<changelog::StateDigest> SyncState::server_digest() {
  changelog::StateDigest digest;
  auto server = store_.statement(sql::kServerProposals);
  if (!server) return fail(server.error());
  ERGON_TRY((*server)->for_each([&](storage::Statement& s) -> core::Status {
    auto id = s.column_text(0);
    // Through Proposal, so the digest covers exactly the fields the server hashes.
    auto p = decode_synced(s.column_blob(1), id);
    if (!p) return fail(p.error());
    for (const auto& [field, value] : model::all_values(*p)) digest.toggle(id, field, value);
    return {};
  }));
  auto envelopes = store_.statement(sql::kServerEnvelopes);
  if (!envelopes) return fail(envelopes.error());
  ERGON_TRY((*envelopes)->for_each([&](storage::Statement& s) {
    digest.toggle(changelog::envelope_entity(s.column_text(0)), "amount",
                  model::Money::from_cents(s.column_int64(1)).plain());
  }));
  return digest;
}

}  // namespace ergon::client

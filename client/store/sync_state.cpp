// The client side of the change model: applying the server's snapshot and log pages to the last
// synced state, recording the outcomes of the device's own changes, and rebuilding the view.
// No sockets here: client/sync calls these, tests call them directly.

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "client/store/local_store.h"
#include "shared/changelog/field_value_io.h"
#include "shared/model/fields.h"

namespace ergon::client {
namespace {

using changelog::OutcomeKind;
using core::ErrorCode;
using core::fail;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

template <class Row>
core::Status each_row(storage::Statement& stmt, Row&& row) {
  for (;;) {
    auto r = stmt.step();
    if (!r) return fail(r.error());
    if (*r == storage::StepResult::kDone) break;
    row(stmt);
  }
  stmt.reset();
  return {};
}

core::Result<model::Proposal> decode_proposal(std::string_view blob) {
  auto values = changelog::decode_values(blob);
  if (!values) return fail(values.error());
  model::Proposal p;
  ERGON_TRY(model::apply_values(p, *values));
  return p;
}

}  // namespace

std::uint64_t LocalStore::cursor() {
  auto value = meta("cursor");
  return value ? std::stoull(*value) : 0;
}

std::string LocalStore::setting(std::string_view key) { return meta(key).value_or(""); }

core::Status LocalStore::set_setting(std::string_view key, std::string_view value) {
  return in_transaction([&] { return set_meta(key, value); });
}

core::Result<std::size_t> LocalStore::requeue_after(std::uint64_t high_water_mark) {
  std::size_t count = 0;
  ERGON_TRY(in_transaction([&]() -> core::Status {
    auto stmt = db_.prepare(
        "UPDATE outbox SET status = 'pending', reason = '' WHERE device_seq > ?1 AND status != "
        "'pending'");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, i64(high_water_mark));
    ERGON_TRY(stmt->run());
    count = static_cast<std::size_t>(db_.changes());
    return rebuild_view();
  }));
  return count;
}

core::Status LocalStore::replace_reference(const std::map<std::string, std::string>& files) {
  auto reference = model::ReferenceData::from_files(files);
  if (!reference) return fail(reference.error());
  for (const auto& [name, content] : files) {
    auto known = model::ReferenceData::file_names();
    if (std::find(known.begin(), known.end(), name) == known.end()) continue;
    auto path = home_ / "reference" / name;
    std::ofstream out(path.string() + ".tmp", std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) return fail(ErrorCode::kStorage, "cannot write " + path.string());
    std::filesystem::rename(path.string() + ".tmp", path);
  }
  reference_ = std::move(*reference);
  return {};
}

core::Status LocalStore::dismiss(std::uint64_t device_seq) {
  return in_transaction([&]() -> core::Status {
    auto stmt = db_.prepare(
        "UPDATE outbox SET status = 'dismissed' WHERE device_seq = ?1 AND status = 'rejected'");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, i64(device_seq));
    ERGON_TRY(stmt->run());
    if (db_.changes() == 0)
      return fail(ErrorCode::kNotFound, "change " + std::to_string(device_seq) +
                                            " is not a rejected change; see 'ergon status'");
    return {};
  });
}

core::Status LocalStore::set_identity(const std::string& role, const std::string& directorate,
                                      int year) {
  ERGON_TRY(in_transaction([&]() -> core::Status {
    ERGON_TRY(set_meta("role", role));
    ERGON_TRY(set_meta("directorate", directorate));
    return set_meta("year", std::to_string(year));
  }));
  device_.role = role;
  device_.directorate = directorate;
  device_.year = year;
  return {};
}

core::Result<std::vector<changelog::Change>> LocalStore::pending_changes(std::size_t limit) {
  auto all = outbox(true);
  if (!all) return fail(all.error());
  std::vector<changelog::Change> out;
  for (auto& e : *all) {
    if (e.status != "pending") continue;
    if (out.size() == limit) break;
    out.push_back(std::move(e.change));
  }
  return out;
}

core::Result<std::optional<model::Proposal>> LocalStore::server_proposal(const std::string& id) {
  auto stmt = db_.prepare("SELECT vals FROM server_proposals WHERE id = ?1");
  if (!stmt) return fail(stmt.error());
  stmt->bind(1, id);
  std::optional<std::string> blob;
  ERGON_TRY(each_row(*stmt, [&](storage::Statement& s) { blob = s.column_blob(0); }));
  if (!blob) return std::optional<model::Proposal>{};
  auto p = decode_proposal(*blob);
  if (!p) return fail(ErrorCode::kCorrupt, "synced proposal " + id + ": " + p.error().message);
  return std::optional<model::Proposal>(std::move(*p));
}

core::Status LocalStore::put_server_proposal(const model::Proposal& p) {
  auto stmt = db_.prepare("INSERT OR REPLACE INTO server_proposals (id, vals) VALUES (?1, ?2)");
  if (!stmt) return fail(stmt.error());
  auto blob = changelog::encode_values(model::all_values(p));
  stmt->bind(1, p.id.hex()).bind(2, storage::Blob{blob});
  return stmt->run();
}

core::Status LocalStore::set_server_revision(const std::string& entity, std::string_view group,
                                             const changelog::GroupRevision& revision) {
  auto stmt = db_.prepare(
      "INSERT OR REPLACE INTO server_revisions (entity, grp, epoch, seq) VALUES (?1, ?2, ?3, ?4)");
  if (!stmt) return fail(stmt.error());
  stmt->bind(1, entity)
      .bind(2, group)
      .bind(3, i64(revision.revision.epoch))
      .bind(4, i64(revision.revision.seq));
  return stmt->run();
}

core::Status LocalStore::apply_accepted(const changelog::LogEntry& entry) {
  const auto& change = entry.change;
  changelog::GroupRevision revision{entry.outcome.position, change.device_id, change.device_seq};
  if (change.entity.kind == changelog::EntityKind::kEnvelope) {
    auto amount = model::Money::parse(change.values.at("amount"));
    if (!amount)
      return fail(ErrorCode::kCorrupt, "envelope from the server: " + amount.error().message);
    auto stmt =
        db_.prepare("INSERT OR REPLACE INTO server_envelopes (key, amount) VALUES (?1, ?2)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, change.entity.key).bind(2, amount->cents());
    ERGON_TRY(stmt->run());
    return set_server_revision(changelog::envelope_entity(change.entity.key), "amount", revision);
  }
  if (change.entity.kind != changelog::EntityKind::kProposal) return {};
  model::Proposal p;
  if (change.group != changelog::kCreateGroup) {
    auto current = server_proposal(change.entity.key);
    if (!current) return fail(current.error());
    if (!*current)
      return fail(ErrorCode::kCorrupt, "the server changed proposal " + change.entity.key +
                                           " which this client never received; run sync again to "
                                           "bootstrap");
    p = std::move(**current);
  }
  ERGON_TRY(model::apply_values(p, change.values));
  ERGON_TRY(put_server_proposal(p));
  if (change.group == changelog::kCreateGroup) {
    for (auto group : model::all_groups())
      ERGON_TRY(set_server_revision(change.entity.key, group, revision));
    return {};
  }
  return set_server_revision(change.entity.key, change.group, revision);
}

core::Result<PullResult> LocalStore::apply_log(const std::vector<changelog::LogEntry>& entries) {
  PullResult result;
  auto ok = in_transaction([&]() -> core::Status {
    std::uint64_t position = cursor();
    std::set<std::string> touched;
    for (const auto& entry : entries) {
      // Entries at or below the cursor are in the state already (a page seen before, or a
      // snapshot); only the outcome of an own change may still be news.
      bool is_new = entry.outcome.position.seq > position;
      bool is_own = entry.change.device_id == device_.device_id;
      if (!is_new && !is_own) continue;
      if (entry.change.entity.kind == changelog::EntityKind::kProposal)
        touched.insert(entry.change.entity.key);
      ERGON_TRY(record_entry(entry, is_new, result));
      if (!is_new) continue;
      position = entry.outcome.position.seq;
      ERGON_TRY(set_meta("cursor", std::to_string(position)));
      ERGON_TRY(set_meta("chain_head", crypto::to_hex(entry.hash)));
      ++result.entries;
    }
    return rebuild_view(&touched);
  });
  if (!ok) return fail(ok.error());
  return result;
}

core::Status LocalStore::record_entry(const changelog::LogEntry& entry, bool apply_state,
                                      PullResult& result) {
  const auto& o = entry.outcome;
  if (apply_state && o.kind == OutcomeKind::kAccepted && o.is_new_revision)
    ERGON_TRY(apply_accepted(entry));
  if (o.kind == OutcomeKind::kConflict && o.conflict) {
    auto park = db_.prepare(
        "INSERT OR IGNORE INTO conflicts (epoch, seq, entity, grp) VALUES (?1, ?2, ?3, ?4)");
    if (!park) return fail(park.error());
    park->bind(1, i64(o.conflict->epoch))
        .bind(2, i64(o.conflict->seq))
        .bind(3, entry.change.entity.key)
        .bind(4, entry.change.group);
    ERGON_TRY(park->run());
    auto parked = db_.prepare(
        "INSERT OR IGNORE INTO conflict_changes (change_id, conflict_epoch, conflict_seq, "
        "device_id, "
        "user, hlc_wall, vals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!parked) return fail(parked.error());
    auto blob = changelog::encode_values(entry.change.values);
    parked->bind(1, o.change_id)
        .bind(2, i64(o.conflict->epoch))
        .bind(3, i64(o.conflict->seq))
        .bind(4, entry.change.device_id.hex())
        .bind(5, entry.change.user)
        .bind(6, entry.change.client_time.wall_ms)
        .bind(7, storage::Blob{blob});
    ERGON_TRY(parked->run());
  }
  if (entry.change.device_id != device_.device_id) return {};
  auto mark = db_.prepare(
      "UPDATE outbox SET status = ?2, reason = ?3 WHERE device_seq = ?1 AND status = 'pending'");
  if (!mark) return fail(mark.error());
  mark->bind(1, i64(entry.change.device_seq))
      .bind(2, changelog::to_string(o.kind))
      .bind(3, o.reason);
  ERGON_TRY(mark->run());
  if (db_.changes() == 0) return {};  // learnt before
  if (o.kind == OutcomeKind::kAccepted) ++result.own_accepted;
  if (o.kind == OutcomeKind::kConflict) ++result.own_conflicts;
  if (o.kind == OutcomeKind::kRejected) ++result.own_rejected;
  return {};
}

core::Status LocalStore::apply_snapshot(const changelog::Snapshot& snapshot) {
  return in_transaction([&]() -> core::Status {
    ERGON_TRY(
        db_.exec("DELETE FROM server_proposals; DELETE FROM server_revisions; DELETE FROM "
                 "server_envelopes;"));
    for (const auto& p : snapshot.proposals) ERGON_TRY(put_server_proposal(p));
    auto envelope = db_.prepare("INSERT INTO server_envelopes (key, amount) VALUES (?1, ?2)");
    if (!envelope) return fail(envelope.error());
    for (const auto& [key, amount] : snapshot.envelopes) {
      envelope->reset();
      envelope->bind(1, key).bind(2, amount.cents());
      ERGON_TRY(envelope->run());
    }
    for (const auto& row : snapshot.revisions)
      ERGON_TRY(set_server_revision(row.entity, row.group, row.revision));
    ERGON_TRY(set_meta("cursor", std::to_string(snapshot.cursor)));
    ERGON_TRY(set_meta("chain_head", crypto::to_hex(snapshot.chain_head)));
    ERGON_TRY(db_.exec("DELETE FROM conflict_changes; DELETE FROM conflicts;"));
    PullResult ignored;
    for (const auto& entry : snapshot.parked) ERGON_TRY(record_entry(entry, false, ignored));
    return rebuild_view();
  });
}

core::Status LocalStore::apply_snapshot_part(const changelog::Snapshot& part) {
  return in_transaction([&]() -> core::Status {
    std::set<std::string> touched;
    for (const auto& p : part.proposals) {
      ERGON_TRY(put_server_proposal(p));
      touched.insert(p.id.hex());
    }
    for (const auto& row : part.revisions)
      ERGON_TRY(set_server_revision(row.entity, row.group, row.revision));
    return rebuild_view(&touched);
  });
}

core::Status LocalStore::rebuild_view(const std::set<std::string>* only) {
  // A page touches a few proposals: rebuild just those, not the whole programme.
  std::map<std::string, model::Proposal> view;
  if (only) {
    auto remove = db_.prepare("DELETE FROM proposals WHERE id = ?1");
    if (!remove) return fail(remove.error());
    for (const auto& id : *only) {
      remove->reset();
      remove->bind(1, id);
      ERGON_TRY(remove->run());
      auto p = server_proposal(id);
      if (!p) return fail(p.error());
      if (*p) view.emplace(id, std::move(**p));
    }
  } else {
    ERGON_TRY(db_.exec("DELETE FROM proposals"));
    auto server = db_.prepare("SELECT id, vals FROM server_proposals");
    if (!server) return fail(server.error());
    core::Status bad;
    ERGON_TRY(each_row(*server, [&](storage::Statement& s) {
      auto p = decode_proposal(s.column_blob(1));
      if (!p)
        bad = fail(ErrorCode::kCorrupt,
                   "synced proposal " + s.column_text(0) + ": " + p.error().message);
      else
        view.emplace(s.column_text(0), std::move(*p));
    }));
    ERGON_TRY(bad);
  }
  // The user's own pending edits, replayed in the order they were made.
  auto all = outbox(true);
  if (!all) return fail(all.error());
  for (const auto& e : *all) {
    if (e.status != "pending" || e.change.entity.kind != changelog::EntityKind::kProposal) continue;
    if (only && !only->contains(e.change.entity.key)) continue;
    auto it = view.find(e.change.entity.key);
    if (it == view.end()) {
      if (e.change.group != changelog::kCreateGroup) continue;
      it = view.emplace(e.change.entity.key, model::Proposal{}).first;
    }
    ERGON_TRY(model::apply_values(it->second, e.change.values));
  }
  for (const auto& [id, p] : view) ERGON_TRY(write_view(p));
  return {};
}

core::Result<changelog::StateDigest> LocalStore::server_digest() {
  changelog::StateDigest digest;
  auto server = db_.prepare("SELECT id, vals FROM server_proposals");
  if (!server) return fail(server.error());
  core::Status bad;
  ERGON_TRY(each_row(*server, [&](storage::Statement& s) {
    auto values = changelog::decode_values(s.column_blob(1));
    if (!values) {
      bad = fail(values.error());
      return;
    }
    auto id = s.column_text(0);
    // Through Proposal, so the digest covers exactly the fields the server hashes.
    model::Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok) {
      bad = fail(ok.error());
      return;
    }
    for (const auto& [field, value] : model::all_values(p)) digest.toggle(id, field, value);
  }));
  ERGON_TRY(bad);
  auto envelopes = db_.prepare("SELECT key, amount FROM server_envelopes");
  if (!envelopes) return fail(envelopes.error());
  ERGON_TRY(each_row(*envelopes, [&](storage::Statement& s) {
    digest.toggle(changelog::envelope_entity(s.column_text(0)), "amount",
                  model::Money::from_cents(s.column_int64(1)).plain());
  }));
  return digest;
}

core::Result<std::vector<ClientConflict>> LocalStore::conflicts() {
  std::vector<ClientConflict> out;
  auto list =
      db_.prepare("SELECT epoch, seq, entity, grp, status FROM conflicts ORDER BY epoch, seq");
  if (!list) return fail(list.error());
  ERGON_TRY(each_row(*list, [&](storage::Statement& s) {
    out.push_back({{static_cast<std::uint64_t>(s.column_int64(0)),
                    static_cast<std::uint64_t>(s.column_int64(1))},
                   s.column_text(2),
                   s.column_text(3),
                   s.column_text(4),
                   {}});
  }));
  auto members = db_.prepare(
      "SELECT change_id, device_id, user, hlc_wall, vals FROM conflict_changes WHERE "
      "conflict_epoch = ?1 AND conflict_seq = ?2 ORDER BY change_id");
  if (!members) return fail(members.error());
  core::Status bad;
  for (auto& c : out) {
    members->reset();
    members->bind(1, i64(c.id.epoch)).bind(2, i64(c.id.seq));
    ERGON_TRY(each_row(*members, [&](storage::Statement& s) {
      auto values = changelog::decode_values(s.column_blob(4));
      if (!values) bad = fail(values.error());
      c.incoming.push_back(
          {s.column_text(0), core::DeviceId::parse(s.column_text(1)).value_or(core::DeviceId{}),
           s.column_text(2), s.column_int64(3), values.value_or(model::FieldValues{})});
    }));
  }
  ERGON_TRY(bad);
  return out;
}

}  // namespace ergon::client

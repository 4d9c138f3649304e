#pragma once
// SyncState: the face client/sync sees of a home. It applies the server's snapshot and log
// pages to the last synced server state, records the outcomes of the device's own changes and
// rebuilds the view the user sees. No sockets here: client/sync calls it, tests call it
// directly. Borrows its LocalStore; one thread at a time.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "client/store/local_store.h"
#include "client/store/revision_object.h"

namespace ergon::client {

class SyncState {
 public:
  explicit SyncState(LocalStore& store) : store_(store) {}

  /// Changes not yet decided by the server, in sequence order, at most `limit`.
  [[nodiscard]] core::Result<std::vector<changelog::Change>> pending_changes(std::size_t limit);
  /// Replaces the last synced server state with a snapshot (bootstrap), keeping the outbox,
  /// and rebuilds the view.
  [[nodiscard]] core::Status apply_snapshot(const changelog::Snapshot& snapshot);
  /// A later part of a paged bootstrap: its proposals and their revisions, added to what the
  /// first part (apply_snapshot) replaced; the cursor stays the first part's.
  [[nodiscard]] core::Status apply_snapshot_part(const changelog::Snapshot& part);
  /// Applies a page of the server's log after the cursor: accepted changes of every device to
  /// the server state, outcomes of this device's own changes to its outbox, parked conflicts;
  /// moves the cursor in the same transaction and rebuilds the view.
  [[nodiscard]] core::Result<PullResult> apply_log(const std::vector<changelog::LogEntry>& entries);
  /// The chain head this client holds: the last log row it applied (epoch, seq) and its hash;
  /// none before the first sync.
  [[nodiscard]] core::Result<std::optional<std::pair<changelog::Revision, crypto::Digest>>>
  held_head();
  /// The last server log position applied (0 before the first sync).
  [[nodiscard]] core::Result<std::uint64_t> cursor();
  /// The same with its epoch: what this home had seen of the log, the horizon of a change
  /// queued now (zero before the first sync).
  [[nodiscard]] core::Result<changelog::Revision> applied_position();
  /// How many proposals the last synced server state holds.
  [[nodiscard]] core::Result<std::uint64_t> held_proposals();
  /// The digest of the last synced server state, computed from it: every field read.
  [[nodiscard]] core::Result<changelog::StateDigest> server_digest();
  /// The digest of the last synced server state as kept beside it: moved with every change
  /// applied to that state, in the same transaction, so a sync compares it without reading
  /// the whole programme (computed once for a home that keeps none yet).
  [[nodiscard]] core::Result<changelog::StateDigest> kept_digest();
  /// Replaces the kept digest with `digest` (the computed one, after a mismatch).
  [[nodiscard]] core::Status keep_digest(const changelog::StateDigest& digest);
  /// After a server restore (a new epoch): changes the server decided above its high-water mark
  /// are gone from it, so they go back to pending to be pushed again, and no pending change
  /// claims to have seen beyond the restored `log_head`. Returns how many went back.
  [[nodiscard]] core::Result<std::size_t> requeue_after(std::uint64_t high_water_mark,
                                                        const changelog::Revision& log_head);
  /// Replaces the reference lists with the server's (sent with a snapshot).
  [[nodiscard]] core::Status replace_reference(const std::map<std::string, std::string>& files);
  /// Records what the server says this device is (role, directorate, programme year) and
  /// where its open years stand (none: not told).
  [[nodiscard]] core::Status set_identity(merge::Role role, const std::string& directorate,
                                          int year,
                                          const std::vector<merge::YearStage>& years = {});

 private:
  /// The view of `only` (all when null) from the server state stored, with the pending outbox.
  [[nodiscard]] core::Status rebuild_view(const std::set<std::string>* only = nullptr);
  /// The same from `server`, the server state of those proposals already in hand, and their
  /// stored encoding by id (`stored`, may be null) for the view rows no pending edit changes.
  [[nodiscard]] core::Status rebuild_view_from(
      const std::set<std::string>* only, std::map<std::string, model::Proposal> server,
      const std::map<std::string, std::string>* stored = nullptr);
  [[nodiscard]] core::Result<std::optional<model::Proposal>> server_proposal(const std::string& id);
  /// Stores `p`, moving `digest` from `before` (the stored proposal, none when new) to it; the
  /// bytes stored go to `stored` when given.
  [[nodiscard]] core::Status put_server_proposal(const model::Proposal& p,
                                                 const model::Proposal* before,
                                                 changelog::StateDigest& digest,
                                                 std::string* stored = nullptr);
  [[nodiscard]] core::Status put_server_envelope(const std::string& key, model::Money amount,
                                                 changelog::StateDigest& digest);
  /// Stores `revision`, set by `change`, as the revision of each of `groups` of `entity`.
  [[nodiscard]] core::Status set_server_revisions(const std::string& entity,
                                                  std::span<const std::string_view> groups,
                                                  const changelog::GroupRevision& revision,
                                                  const changelog::Change& change);
  /// Stores the revisions a snapshot carries.
  [[nodiscard]] core::Status put_revision_rows(const std::vector<changelog::RevisionRow>& rows);
  /// Merges the groups of `groups` into those stored for `entity`, and empties it.
  [[nodiscard]] core::Status merge_server_revisions(const std::string& entity,
                                                    RevisionObject& groups);
  [[nodiscard]] core::Status apply_accepted(const changelog::LogEntry& entry,
                                            changelog::StateDigest& digest);
  [[nodiscard]] core::Status record_entry(const changelog::LogEntry& entry,
                                          changelog::StateDigest* digest, PullResult& result);
  [[nodiscard]] core::Status park_conflict(const changelog::LogEntry& entry);
  [[nodiscard]] core::Status record_flag_ack(const changelog::Change& ack);

  LocalStore& store_;
};

}  // namespace ergon::client

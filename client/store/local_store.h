#pragma once
// LocalStore: a directorate client's SQLite home. It keeps the last synced server state, the
// outbox of the device's own changes (gap-free sequence, field groups, bases) and the view the
// user sees (server state + pending outbox). Every edit writes its outbox rows and the view in
// one transaction, so a killed process never leaves half an edit.
// Owns its Database; one thread at a time. Fails with Error values, never throws.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "shared/changelog/change.h"
#include "shared/changelog/log_entry.h"
#include "shared/changelog/snapshot.h"
#include "shared/core/clock.h"
#include "shared/core/hybrid_clock.h"
#include "shared/core/ids.h"
#include "shared/core/result.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"
#include "shared/storage/database.h"

namespace ergon::client {

struct DeviceInfo {
  core::DeviceId device_id;
  std::string directorate;           // the directorate this client works for (may be empty)
  std::string user;                  // the person's stated name
  std::string role = "directorate";  // assumed until a server says otherwise
  int year = 0;                      // the programme year new proposals belong to
};

struct InitOptions {
  std::string directorate;
  std::string user;
  std::optional<int> year;
  std::filesystem::path reference_dir;  // copied into the home
};

struct ListFilter {
  std::string search;       // words that must all appear in title or remarks (folded)
  std::string directorate;  // empty: all
  std::optional<model::State> state;
  std::optional<int> year;
};

struct OutboxEntry {
  changelog::Change change;
  std::string status;  // "pending" or "rejected"
  std::string reason;  // why it was rejected
};

/// A conflict parked on the server that this client knows of, with the changes parked in it.
struct ParkedChange {
  std::string change_id;
  core::DeviceId device_id;
  std::string user;
  std::int64_t client_time_ms = 0;
  model::FieldValues values;
};
struct ClientConflict {
  changelog::Revision id;
  std::string entity;
  std::string group;
  std::string status;
  std::vector<ParkedChange> incoming;
};

/// What applying one page of the server's log did.
struct PullResult {
  std::size_t entries = 0;
  std::size_t own_accepted = 0;
  std::size_t own_conflicts = 0;
  std::size_t own_rejected = 0;
};

/// What an edit did: the changes it queued (none when nothing differed).
struct EditResult {
  model::Proposal proposal;
  std::vector<std::uint64_t> queued_seqs;
};

class LocalStore {
 public:
  /// Creates the home (folder, database, device id, reference data). Re-running on an
  /// existing home keeps its device id and edits and only updates the given settings.
  static core::Result<LocalStore> init(const std::filesystem::path& home,
                                       const InitOptions& options,
                                       const core::Clock& clock = core::system_clock());
  /// Opens an existing home; kNotFound with advice when there is none.
  static core::Result<LocalStore> open(const std::filesystem::path& home,
                                       const core::Clock& clock = core::system_clock());

  LocalStore(LocalStore&&) noexcept;
  LocalStore& operator=(LocalStore&&) = delete;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;
  ~LocalStore();

  const DeviceInfo& device() const { return device_; }
  const model::ReferenceData& reference() const { return reference_; }
  const std::filesystem::path& home() const { return home_; }

  /// Creates a draft from user text values (CSV forms); `directorate` defaults to the
  /// client's, `year` to the programme year. Returns the new proposal.
  core::Result<model::Proposal> create(const model::FieldValues& values,
                                       std::optional<int> year = std::nullopt);
  /// Sets user fields; one change per field group that differs. Validation mirrors the server.
  core::Result<EditResult> edit(const core::ProposalId& id, const model::FieldValues& values);
  core::Result<EditResult> submit(const core::ProposalId& id);
  core::Result<EditResult> withdraw(const core::ProposalId& id);

  /// The proposal whose id is `text` or starts with it (8 or more hex digits).
  core::Result<core::ProposalId> resolve_id(std::string_view text);
  core::Result<model::Proposal> get(const core::ProposalId& id);
  core::Result<std::vector<model::Proposal>> list(const ListFilter& filter);

  /// Every outbox entry in sequence order (only the pending ones when asked).
  core::Result<std::vector<OutboxEntry>> outbox(bool pending_only = false);
  /// The last sync's time (ms) and error, as recorded by sync.
  std::optional<std::int64_t> last_sync_ms();
  std::string last_sync_error();

  // --- the client side of the change model (used by sync) ---

  /// Changes not yet decided by the server, in sequence order, at most `limit`.
  core::Result<std::vector<changelog::Change>> pending_changes(std::size_t limit);
  /// Replaces the last synced server state with a snapshot (bootstrap), keeping the outbox,
  /// and rebuilds the view.
  core::Status apply_snapshot(const changelog::Snapshot& snapshot);
  /// A later part of a paged bootstrap: its proposals and their revisions, added to what the
  /// first part (apply_snapshot) replaced; the cursor stays the first part's.
  core::Status apply_snapshot_part(const changelog::Snapshot& part);
  /// Applies a page of the server's log after the cursor: accepted changes of every device to
  /// the server state, outcomes of this device's own changes to its outbox, parked conflicts;
  /// moves the cursor in the same transaction and rebuilds the view.
  core::Result<PullResult> apply_log(const std::vector<changelog::LogEntry>& entries);
  /// The last server log position applied.
  std::uint64_t cursor();
  /// The digest of the last synced server state, computed from it.
  core::Result<changelog::StateDigest> server_digest();
  core::Result<std::vector<ClientConflict>> conflicts();
  /// The device's Ed25519 key pair, made at `ergon init` (or on first use by a home made
  /// before device keys existed). The private key never leaves the home: hello proves it.
  core::Result<crypto::SigningKey> device_key();

  /// A named setting of the home ("server", "token", "fingerprint", …); empty when unset.
  std::string setting(std::string_view key);
  core::Status set_setting(std::string_view key, std::string_view value);
  /// After a server restore (a new epoch): changes the server decided above its high-water mark
  /// are gone from it, so they go back to pending to be pushed again. Returns how many.
  core::Result<std::size_t> requeue_after(std::uint64_t high_water_mark);
  /// Replaces the reference lists with the server's (sent with a snapshot).
  core::Status replace_reference(const std::map<std::string, std::string>& files);
  /// Drops a rejected change from the outbox view (its number stays used: no gap).
  core::Status dismiss(std::uint64_t device_seq);

  /// Records what the server says this device is (role, directorate, programme year).
  core::Status set_identity(const std::string& role, const std::string& directorate, int year);
  /// View = server state + pending outbox replayed in order; only the proposals in `only` when
  /// given.
  core::Status rebuild_view(const std::set<std::string>* only = nullptr);

  /// Runs `work` inside one write transaction; commits only if it succeeds. Used by the
  /// importer so a whole file lands or none of it.
  template <class F>
  core::Status in_transaction(F&& work);

  /// Finds an existing proposal of `year` for an imported row without id: by ΚΑ code when that
  /// code is unique in the year, else by directorate and normalised title.
  core::Result<std::optional<core::ProposalId>> match(int year, const std::string& ka_code,
                                                      const std::string& directorate,
                                                      const std::string& title);
  /// create/edit without their own transaction, for use inside in_transaction.
  core::Result<model::Proposal> create_in_tx(const model::FieldValues& values,
                                             std::optional<int> year,
                                             std::optional<core::ProposalId> id = std::nullopt);
  core::Result<EditResult> edit_in_tx(const core::ProposalId& id, const model::FieldValues& values,
                                      bool user_fields_only = true);

 private:
  struct Statements;
  LocalStore(std::filesystem::path home, storage::Database db, const core::Clock& clock);
  core::Status load_settings();
  core::Result<std::string> meta(std::string_view key);
  core::Status set_meta(std::string_view key, std::string_view value);
  core::Result<changelog::Base> base_for(const std::string& entity, std::string_view group);
  core::Result<std::uint64_t> queue_change(const std::string& entity, const std::string& group,
                                           const model::FieldValues& values, changelog::Base base);
  core::Status write_view(const model::Proposal& p);
  core::Result<EditResult> change_state(const core::ProposalId& id, model::State to);
  core::Status check_editable(const model::Proposal& current, std::string_view group);
  core::Result<std::optional<model::Proposal>> server_proposal(const std::string& id);
  core::Status put_server_proposal(const model::Proposal& p);
  core::Status set_server_revision(const std::string& entity, std::string_view group,
                                   const changelog::GroupRevision& revision);
  core::Status apply_accepted(const changelog::LogEntry& entry);
  core::Status record_entry(const changelog::LogEntry& entry, bool apply_state, PullResult& result);

  std::filesystem::path home_;
  storage::Database db_;
  core::HybridClock hlc_;
  DeviceInfo device_;
  model::ReferenceData reference_;
  std::unique_ptr<Statements> stmts_;
};

template <class F>
core::Status LocalStore::in_transaction(F&& work) {
  auto tx = db_.begin_immediate();
  if (!tx) return core::fail(tx.error());
  ERGON_TRY(work());
  return tx->commit();
}

/// The home folder: `--home`, else $ERGON_HOME, else $XDG_DATA_HOME/ergon, else
/// ~/.local/share/ergon.
std::filesystem::path resolve_home(const std::string& from_flag);

}  // namespace ergon::client

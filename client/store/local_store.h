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
#include "shared/merge/flags.h"
#include "shared/merge/permission.h"
#include "shared/merge/stages.h"
#include "shared/model/fields.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"
#include "shared/storage/database.h"

namespace ergon::client {

struct DeviceInfo {
  core::DeviceId device_id;
  std::string directorate;  // the directorate this client works for (may be empty)
  std::string user;         // the person's stated name
  merge::Role role = merge::Role::kDirectorate;  // assumed until a server says otherwise
  int year = 0;                                  // the programme year new proposals belong to
  // The open years and their stages as the last sync said (empty before it): the offline
  // stage locks and open years, the server's own rules (merge::set_years).
  std::vector<merge::YearStage> years;
};

/// The open years as a home keeps them ("2024 approved 1;2025 proposals 0") and back; an
/// unreadable text reads as none known.
std::string years_text(const std::vector<merge::YearStage>& years);
std::vector<merge::YearStage> parse_years_text(std::string_view text);

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

/// Where one of the device's own changes stands: waiting to be pushed, or what the server
/// decided, or a rejection the user has seen and dismissed.
enum class OutboxStatus { kPending, kAccepted, kConflict, kRejected, kDismissed };
std::string_view to_string(OutboxStatus status);
core::Result<OutboxStatus> parse_outbox_status(std::string_view text);

struct OutboxEntry {
  changelog::Change change;
  OutboxStatus status = OutboxStatus::kPending;
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
/// A parked conflict waits for a person; a resolution the server accepted settles it.
enum class ConflictStatus { kOpen, kResolved };

struct ClientConflict {
  changelog::Revision id;
  std::string entity;
  std::string group;
  ConflictStatus status = ConflictStatus::kOpen;
  std::vector<ParkedChange> incoming;
};

/// What applying one page of the server's log did.
struct PullResult {
  std::size_t entries = 0;
  std::size_t own_accepted = 0;
  std::size_t own_conflicts = 0;
  std::size_t own_rejected = 0;
};

/// How a conflict is settled: keep the master's values ("master"), take the one parked change
/// ("incoming"), take a parked change by its id, or set values of the group (`values`).
struct Resolution {
  std::string take;           // "master", "incoming" or a change id; empty when `values`
  model::FieldValues values;  // FIELD=VALUE of the conflict's group
};

/// Who acknowledged a flag, why, when, and how far its cause went then.
struct FlagAck {
  std::string user;
  std::string reason;
  std::int64_t at_ms = 0;
  std::int64_t level = 0;
};
/// A flag raised by this client's view of a year, and its acknowledgement while it holds.
struct FlagView {
  std::string id;
  merge::RaisedFlag flag;
  std::optional<FlagAck> acknowledged;  // none, or the cause grew past it
};

/// A new proposal the server rejected: kept in the list, marked with the reason, until the
/// user fixes and resends it (LocalStore::resend) or drops it (LocalStore::dismiss_proposal).
struct HeldCreate {
  std::uint64_t device_seq = 0;  // the rejected create
  std::string reason;
};

/// Who set a group's master value: the device always; the stated user and the device's clock
/// when this client received the change through the log (empty and 0 after a bootstrap).
struct MasterSetter {
  changelog::Revision revision;
  std::string device_id;
  std::string user;
  std::int64_t at_ms = 0;
};

/// How far this home has seen a proposal's group: the server revision it last synced (none for
/// a group the server never set) and its own newest pending change to it (none when none).
struct GroupSeen {
  std::optional<changelog::Revision> server;
  std::optional<std::uint64_t> pending_seq;
};

/// Where an exported row stood, so that re-importing the sheet can tell the user's edits in it
/// from changes made since: the newest server revision of any of the proposal's groups, and the
/// exporting home (its device id) with its last own change then.
struct ExportMark {
  changelog::Revision seen;
  std::string device;  // the exporting home's device id, hex
  std::uint64_t last_own_seq = 0;
};

/// What an edit did: the changes it queued (none when nothing differed).
struct EditResult {
  model::Proposal proposal;
  std::vector<std::uint64_t> queued_seqs;
};

class EditBatch;
class SyncState;

/// Which fields an edit may set: what a user types (FIELD=VALUE), or any (a planning decision
/// replayed by a test, an import that carries the life state is not one of them).
enum class EditScope { kUserFields, kAnyField };

/// The CLI's face of the home. Sync works through SyncState, the importer through EditBatch;
/// both share this store's connection and statements.
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
  [[nodiscard]] core::Result<model::Proposal> create(const model::FieldValues& values,
                                                     std::optional<int> year = std::nullopt);
  /// Sets user fields; one change per field group that differs. The checks are the server's
  /// (merge::check_edit): what it would refuse is refused here, offline.
  [[nodiscard]] core::Result<EditResult> edit(const core::ProposalId& id,
                                              const model::FieldValues& values,
                                              EditScope scope = EditScope::kUserFields);
  /// Submitting a submitted proposal (or withdrawing a withdrawn one) is a no-op, as on the
  /// server: nothing is queued.
  [[nodiscard]] core::Result<EditResult> submit(const core::ProposalId& id);
  [[nodiscard]] core::Result<EditResult> withdraw(const core::ProposalId& id);
  /// The same for every proposal in `ids`, in one transaction: all of them, or none.
  [[nodiscard]] core::Result<std::vector<EditResult>> submit(
      const std::vector<core::ProposalId>& ids);
  [[nodiscard]] core::Result<std::vector<EditResult>> withdraw(
      const std::vector<core::ProposalId>& ids);
  /// Planning's decision (included, deferred or rejected; a reason is required for the last
  /// two) on every proposal in `ids`, all in one transaction: all are decided, or none.
  [[nodiscard]] core::Result<std::vector<EditResult>> decide(
      const std::vector<core::ProposalId>& ids, model::State decision, const std::string& reason);
  /// Settles the open conflict `conflict_id` ("EPOCH.SEQ", as `ergon conflicts` prints it): a
  /// change like an edit, checked offline as the server will (merge::check_resolver).
  [[nodiscard]] core::Result<EditResult> resolve(std::string_view conflict_id,
                                                 const Resolution& how);
  /// Budget: the envelope of `source` in `year` (two offline budget devices setting the same
  /// source meet as a conflict). Checked offline as the server will.
  [[nodiscard]] core::Result<std::uint64_t> set_envelope(int year, const std::string& source,
                                                         model::Money amount);
  /// Where every proposal of this home stands now, for an export (by proposal id, hex).
  [[nodiscard]] core::Result<std::map<std::string, ExportMark>> export_marks();
  /// Per funding source of `year`: envelope, allocated, requested, remaining, as this client
  /// sees the programme (the last sync plus its own pending changes).
  [[nodiscard]] core::Result<std::vector<merge::EnvelopeUse>> envelope_uses(int year);
  /// The flags of `year` as this client sees the programme (the same merge::raise_flags the
  /// server runs), each with its acknowledgement while the cause has not grown past it.
  [[nodiscard]] core::Result<std::vector<FlagView>> flags(int year);
  /// Planning (budget for money flags): acknowledges a raised flag with a reason; a change.
  [[nodiscard]] core::Result<std::uint64_t> acknowledge_flag(const std::string& id,
                                                             const std::string& reason);
  /// One write transaction for many edits (the importer): all of them land, or none.
  [[nodiscard]] core::Result<EditBatch> begin_edits();

  /// The proposal whose id is `text` or starts with it (8 or more hex digits).
  [[nodiscard]] core::Result<core::ProposalId> resolve_id(std::string_view text);
  [[nodiscard]] core::Result<model::Proposal> get(const core::ProposalId& id);
  [[nodiscard]] core::Result<std::vector<model::Proposal>> list(const ListFilter& filter);

  /// Every outbox entry in sequence order (only the pending ones when asked).
  [[nodiscard]] core::Result<std::vector<OutboxEntry>> outbox(bool pending_only = false);
  /// Conflicts parked on the server that this client knows of.
  [[nodiscard]] core::Result<std::vector<ClientConflict>> conflicts();
  /// Drops a rejected change from the outbox view (its number stays used: no gap); returns
  /// what it dropped, so the user sees it one last time. A dropped create leaves the list.
  [[nodiscard]] core::Result<OutboxEntry> dismiss(std::uint64_t device_seq);
  /// Drops every rejected change of proposal `id` (a rejected new proposal and its edits).
  [[nodiscard]] core::Result<std::vector<OutboxEntry>> dismiss_proposal(const core::ProposalId& id);
  /// New proposals the server rejected and the user has not resent or dismissed, by id.
  [[nodiscard]] core::Result<std::map<std::string, HeldCreate>> held_creates();
  /// Sends a rejected new proposal again as a new create, with `fixes` (user fields, and
  /// `year`) applied to everything the user typed; its rejected changes are settled by it.
  [[nodiscard]] core::Result<model::Proposal> resend(const core::ProposalId& id,
                                                     const model::FieldValues& fixes);
  /// Who set the master value of `group` of `entity`, as far as this client knows.
  [[nodiscard]] core::Result<std::optional<MasterSetter>> master_setter(const std::string& entity,
                                                                        std::string_view group);
  /// The last sync's time (ms) and error, as recorded by sync.
  std::optional<std::int64_t> last_sync_ms();
  std::string last_sync_error();

  /// A named setting of the home ("server", "token", "fingerprint", …); empty when unset.
  std::string setting(std::string_view key);
  [[nodiscard]] core::Status set_setting(std::string_view key, std::string_view value);
  /// The device's Ed25519 key pair, made at `ergon init` (or on first use by a home made
  /// before device keys existed). The private key never leaves the home: hello proves it.
  [[nodiscard]] core::Result<crypto::SigningKey> device_key();

 private:
  friend class EditBatch;
  friend class SyncState;
  LocalStore(std::filesystem::path home, storage::Database db, const core::Clock& clock);
  [[nodiscard]] core::Status load_settings();
  [[nodiscard]] core::Result<std::string> meta(std::string_view key);
  [[nodiscard]] core::Status set_meta(std::string_view key, std::string_view value);
  [[nodiscard]] core::Result<storage::Statement*> statement(std::string_view sql);
  /// The permission this home acts with offline: its role and directorate once a server has
  /// named them, else `unknown_as` (the server decides the rest). No stage: the server's.
  merge::Permission permission(merge::Role unknown_as) const;
  [[nodiscard]] core::Result<std::map<std::string, model::Money>> envelope_view(int year);
  [[nodiscard]] core::Result<std::map<std::string, FlagAck>> flag_acks();
  /// Writes `p`'s view row; `encoded`, when given, is encode_values(all_values(p)) already.
  [[nodiscard]] core::Status write_view(const model::Proposal& p,
                                        const std::string* encoded = nullptr);
  [[nodiscard]] core::Result<std::vector<EditResult>> change_states(
      const std::vector<core::ProposalId>& ids, model::State to, const std::string& reason);
  /// Outbox rows of a statement over the outbox's columns (sql::kOutboxAll's layout).
  [[nodiscard]] core::Result<std::vector<OutboxEntry>> read_outbox(storage::Statement& stmt);
  /// Refuses an edit of a rejected new proposal: it must be resent (or dismissed) first.
  [[nodiscard]] core::Status check_not_held(const core::ProposalId& id);
  template <class F>
  [[nodiscard]] core::Status in_transaction(F&& work);

  std::filesystem::path home_;
  std::unique_ptr<storage::Database> db_;  // on the heap: the statement cache points at it
  std::unique_ptr<storage::StatementCache> statements_;
  core::HybridClock hlc_;
  DeviceInfo device_;
  model::ReferenceData reference_;
};

/// The importer's face: edits inside one write transaction, committed together.
class EditBatch {
 public:
  EditBatch(EditBatch&&) noexcept = default;
  EditBatch& operator=(EditBatch&&) = delete;
  EditBatch(const EditBatch&) = delete;
  EditBatch& operator=(const EditBatch&) = delete;
  ~EditBatch() = default;  // rolls back unless committed

  [[nodiscard]] core::Result<model::Proposal> create(
      const model::FieldValues& values, std::optional<int> year,
      std::optional<core::ProposalId> id = std::nullopt);
  [[nodiscard]] core::Result<EditResult> edit(const core::ProposalId& id,
                                              const model::FieldValues& values,
                                              EditScope scope = EditScope::kUserFields);
  [[nodiscard]] core::Result<model::Proposal> get(const core::ProposalId& id) {
    return store_->get(id);
  }
  /// An existing proposal of `year` for an imported row without id: by ΚΑ code when that
  /// code is unique in the year, else by directorate and normalised title.
  [[nodiscard]] core::Result<std::optional<core::ProposalId>> match(int year,
                                                                    const std::string& ka_code,
                                                                    const std::string& directorate,
                                                                    const std::string& title);
  /// How far this home has seen `group` of `entity` (import's stale-row check).
  [[nodiscard]] core::Result<GroupSeen> seen(const std::string& entity, std::string_view group);
  [[nodiscard]] core::Status commit() { return tx_.commit(); }
  /// Queues a resolution of `conflict` with the group's chosen values.
  [[nodiscard]] core::Result<EditResult> settle(const ClientConflict& conflict,
                                                const model::FieldValues& values);

 private:
  friend class LocalStore;
  EditBatch(LocalStore& store, storage::Transaction tx) : store_(&store), tx_(std::move(tx)) {}
  /// The horizon of a change to `entity` queued now (kRevision, its revision what this home
  /// had seen of the server's log).
  [[nodiscard]] core::Result<changelog::Base> horizon_for(const std::string& entity);
  [[nodiscard]] core::Result<std::uint64_t> queue_change(changelog::EntityKind kind,
                                                         const std::string& entity,
                                                         const std::string& group,
                                                         const model::FieldValues& values,
                                                         changelog::Base base);

  LocalStore* store_;
  storage::Transaction tx_;
};

template <class F>
core::Status LocalStore::in_transaction(F&& work) {
  auto tx = db_->begin_immediate();
  if (!tx) return core::fail(tx.error());
  ERGON_TRY(work());
  return tx->commit();
}

/// The home folder: `--home`, else $ERGON_HOME, else $XDG_DATA_HOME/ergon, else
/// ~/.local/share/ergon.
std::filesystem::path resolve_home(const std::string& from_flag);

}  // namespace ergon::client

#pragma once
// MasterStore: the server's SQLite store (WAL, synchronous=FULL) and the only server code that
// writes SQL: the master programme by field group with revisions, the append-only hash-chained
// change log with an outcome row for every change, parked conflicts, flags, devices with their
// high-water marks, and the incremental state digest. Writers (the server, admin commands in
// other processes) read the next sequence and chain head inside their own BEGIN IMMEDIATE.
// Owns its Database; one thread. A Batch refers to its store, which must outlive it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/changelog/change.h"
#include "shared/changelog/log_entry.h"
#include "shared/changelog/outcome.h"
#include "shared/changelog/snapshot.h"
#include "shared/core/clock.h"
#include "shared/core/ids.h"
#include "shared/core/result.h"
#include "shared/merge/decide.h"
#include "shared/merge/permission.h"
#include "shared/merge/stages.h"
#include "shared/model/fields.h"
#include "shared/model/money.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"
#include "shared/storage/database.h"

namespace ergon::server {

class StoreConnection;

struct ServerInfo {
  std::string server_id;    // fixed for the life of the installation, kept across restores
  std::uint64_t epoch = 1;  // new at every restore from a backup
  int year = 0;             // the first programme year (years() has every open one)
};

/// The latest backup of the store: the last log row it covers, when it was taken, its file.
struct BackupRecord {
  std::uint64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string file;
};

/// What a restore writes into the log: the epoch it begins and where the data came from.
struct RestoreFacts {
  std::uint64_t epoch = 0;         // the new epoch
  std::uint64_t from_epoch = 0;    // the backup's epoch
  std::uint64_t backup_seq = 0;    // the backup's last log row
  std::int64_t backup_ms = 0;      // when the backup was taken
  std::uint64_t replaced_seq = 0;  // the last log row of the store it replaced (0: none)
};

/// What monitoring asks of a store (`ergond status`).
struct StoreHealth {
  std::uint64_t log_seq = 0;
  std::int64_t log_bytes = 0;  // the database file with its WAL
  std::size_t open_conflicts = 0;
  std::size_t open_flags = 0;
  std::size_t devices = 0;
  std::optional<BackupRecord> backup;
};

/// One stage move of a year's programme, as recorded: the decision that made it, who asked,
/// and the checkpoint (the log's last row and its chain head) at that moment.
struct StageEvent {
  int year = 0;
  std::string name;  // draft-1, consultation, amendment-2 …
  merge::StageAction action = merge::StageAction::kAdvance;
  bool opens_amendment = false;  // an amendment opened: nothing frozen yet
  bool starts_year = false;      // the year opened (ergon year start): nothing frozen
  merge::StageDecision decision;
  std::int64_t at_ms = 0;
  std::string enrolment, user;
  changelog::Revision checkpoint;
  crypto::Digest chain_head{};
  bool frozen = false;
  std::uint64_t proposals = 0;  // in the frozen programme
};

/// A year's programme at one point: the master now, a frozen stage, or a moment.
struct Programme {
  int year = 0;
  std::map<std::string, model::FieldValues> proposals;  // by id: every field, canonical text
  std::map<std::string, std::int64_t> envelopes;        // YEAR:SOURCE → cents
  std::optional<StageEvent> stage;                      // the freeze it is, when it is one
  changelog::Revision at;                               // the log's last row it includes
};

/// Which programme: `stage` (a frozen name, resolved by the caller), else the moment
/// `as_of_ms` (server time, inclusive), else the master now.
struct ProgrammeQuery {
  int year = 0;
  std::string stage;
  std::int64_t as_of_ms = 0;
};

struct DeviceRecord {
  std::string device_id;                           // the enrolled id the token names
  std::optional<core::DeviceId> client_device_id;  // bound at the first hello
  merge::Role role = merge::Role::kAuditor;
  std::string directorate;
  std::string name;
  bool is_revoked = false;
  std::uint64_t high_water_mark = 0;  // the last device_seq the server logged for it
  std::string public_key;             // the client's device key, bound with its id; may be empty
  std::int64_t enrolled_ms = 0;
  std::int64_t last_seen_ms = 0;  // 0: never connected
};

/// Who the server authenticated for a change: stamped in its log row (and covered by the
/// chain), never taken from what the client states.
struct Provenance {
  std::string enrolment;  // the enrolment id `ergond devices` prints
  merge::Role role = merge::Role::kAuditor;
  std::string directorate;
};

struct Enrolment {
  std::string device_id;
  std::string token;  // DEVICE.SECRET; only a hash of SECRET is stored
};

using changelog::RevisionRow;
using changelog::Snapshot;

/// What a pull asks for. A bootstrap comes in pages: the snapshot's proposals in id order
/// (each page read at its own moment: the client replays the log from the first page's cursor,
/// which brings every later page up to date), then the device's own entries it still needs.
struct PullQuery {
  std::uint64_t cursor = 0;
  std::size_t limit = 1000;          // log entries
  std::size_t max_bytes = 4u << 20;  // of values on the page (snapshot, own, entries)
  bool bootstrap = false;
  std::string snapshot_after;   // continue the snapshot after this proposal id
  bool snapshot_done = false;   // the client has the whole snapshot: only own entries
  std::uint64_t own_after = 0;  // own entries with a device_seq above this
};

/// One answer to a pull, read from one committed state.
struct PullPage {
  std::optional<Snapshot> snapshot;  // when a bootstrap was asked
  bool snapshot_more = false;        // the snapshot goes on after snapshot_next
  std::string snapshot_next;
  std::vector<changelog::LogEntry> own;      // with a bootstrap: the device's own entries
  bool own_more = false;                     // more own entries after the last one here
  std::vector<changelog::LogEntry> entries;  // after the cursor (none until the bootstrap ends)
  bool is_last_page = false;
  std::uint64_t head_seq = 0;
  changelog::StateDigest digest;  // at head_seq
  crypto::Digest chain_head{};    // at head_seq
};

struct ConflictRecord {
  changelog::Revision id;  // the first parked change's log position
  std::string entity;
  std::string group;
  std::string status;  // open, resolved
};

struct Flag {
  std::string id;  // `envelope:1099`, `ka:30-7323.004`
  int year = 0;
  std::string status;  // open, acknowledged, cleared
  std::string detail;
};

/// What `ergon history` and `ergon audit log` ask: one entity's timeline or everything, in log
/// order, a page at a time.
struct HistoryQuery {
  std::string entity;  // a proposal id, envelope YEAR:SOURCE or flag id; empty: everything
  std::string field;   // only changes touching this field
  std::string device;  // an enrolment id or a prefix of one
  std::int64_t since_ms = 0, until_ms = 0;  // server time; 0: open
  std::uint64_t after_seq = 0;
  std::size_t limit = 500;  // log rows read for one page
};

struct FieldChange {
  std::string name, old_value, new_value;  // canonical text
};

/// One log row as history shows it: what changed (old and new values), who the server
/// authenticated (enrolment, role, directorate), what the client stated (user, its clock), when
/// the server logged it, and the outcome.
struct HistoryEvent {
  changelog::Revision position;
  std::string kind;  // create, edit, decision, resolution, envelope, flag_ack, conflict, rejected
  changelog::EntityKind entity_kind = changelog::EntityKind::kProposal;
  std::string entity, group;
  std::vector<FieldChange> fields;
  std::string enrolment, role, directorate, user;
  std::int64_t client_ms = 0, server_ms = 0;
  std::string reason;
  std::optional<changelog::Revision> conflict;
  std::string change_id;
};

struct HistoryPage {
  std::vector<HistoryEvent> events;
  bool more = false;
  std::uint64_t next_after = 0;
};

/// A chain head a client holds: the last log row it applied, and that row's hash.
struct HeldHead {
  changelog::Revision at;
  crypto::Digest hash{};
};

/// What verification found. `problem` is empty when everything holds; otherwise it is the
/// first problem, with its row and what differs.
struct VerifyReport {
  std::uint64_t rows = 0;
  std::uint64_t v1_rows = 0;  // hashed under chain version 1: provenance and times not covered
  changelog::Revision head_at;
  crypto::Digest head{};
  std::size_t proposals = 0, envelopes = 0;  // master rows compared with the log's values
  std::size_t heads_checked = 0;
  std::optional<std::uint64_t> broken_seq;
  std::string problem;
};

class MasterStore {
 public:
  static constexpr std::string_view kDatabaseFile = "ergond.db";

  /// Creates the store in `dir` with a new server id and epoch 1, loading the reference files.
  /// `durability` is kFull for every real server; in-process logic tests may trade it away.
  static core::Result<MasterStore> create(
      const std::filesystem::path& dir, const std::filesystem::path& reference_dir,
      std::optional<int> year, const core::Clock& clock = core::system_clock(),
      storage::Durability durability = storage::Durability::kFull);
  static core::Result<MasterStore> open(
      const std::filesystem::path& dir, const core::Clock& clock = core::system_clock(),
      storage::Durability durability = storage::Durability::kFull);

  MasterStore(MasterStore&&) noexcept;
  MasterStore& operator=(MasterStore&&) = delete;
  MasterStore(const MasterStore&) = delete;
  MasterStore& operator=(const MasterStore&) = delete;
  ~MasterStore();

  const ServerInfo& info() const { return info_; }
  /// The municipality every printed table names (`ergond init|settings --municipality`),
  /// read afresh (another process may have set it); empty when none was set.
  [[nodiscard]] core::Result<std::string> municipality();
  /// Sets it: normalised text of 1 to 120 characters, e.g. 'Δήμος Ηρακλείου'.
  [[nodiscard]] core::Status set_municipality(const std::string& name);
  const model::ReferenceData& reference() const { return reference_; }

  // --- devices ---
  core::Result<Enrolment> enrol(merge::Role role, const std::string& directorate,
                                const std::string& name);
  /// The device a token names, if its secret matches (compared in constant time).
  core::Result<DeviceRecord> authenticate(std::string_view token);
  core::Result<DeviceRecord> device(std::string_view enrolled_id);
  /// The enrolment an offline bundle names, if `mac` is the HMAC of `body` under its bundle
  /// key (crypto::bundle_key of its token's secret) and it is not revoked.
  core::Result<DeviceRecord> authenticate_bundle(std::string_view enrolled_id,
                                                 std::string_view body, std::string_view mac);
  /// Binds the client's own device id and key to an enrolment at its first hello (the caller
  /// has checked the client's proof of the key). Refused when the enrolment is bound to another
  /// client or key. A client bound to another enrolment already is re-bound (a new token for
  /// the same laptop) when its key is the one bound there: the old enrolment is revoked and the
  /// new one takes over its high-water mark, so the device's numbering goes on.
  /// Returns the enrolment re-bound from, if any.
  core::Result<std::optional<std::string>> bind(std::string_view enrolled_id,
                                                const core::DeviceId& client_device_id,
                                                std::string_view public_key);
  /// The enrolment whose id is or starts with `id_or_prefix`; kAmbiguous lists the candidates.
  core::Result<DeviceRecord> find_device(std::string_view id_or_prefix);
  /// Revokes an enrolment: its token is refused from the next hello on.
  core::Status revoke(std::string_view enrolled_id);
  /// The enrolment ids that are revoked.
  core::Result<std::vector<std::string>> revoked_devices();
  /// Records that the device was connected at the store clock's now.
  core::Status touch_last_seen(std::string_view enrolled_id);
  /// Changes whenever another connection commits to the store (SQLite's data_version).
  core::Result<std::int64_t> data_version();
  /// The enrolment bound to a client device id.
  core::Result<DeviceRecord> device_by_client(const core::DeviceId& client_device_id);

  /// A write transaction over several changes: the unit of a pushed batch.
  class Batch {
   public:
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) = delete;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch();  // rolls back unless committed

    /// The earlier outcome of a change id, flagged as a duplicate; nullopt if never seen.
    core::Result<std::optional<changelog::Outcome>> outcome_of(const changelog::Change& change);
    /// What decide() needs to know of the master for `change`.
    core::Result<merge::GroupState> group_state(const changelog::Change& change);
    /// Logs the change with its decision at the next position, stamped with who sent it,
    /// chains it and applies it.
    core::Result<changelog::Outcome> append(const changelog::Change& change,
                                            const merge::Decision& decision, const Provenance& by);
    core::Status set_high_water_mark(const core::DeviceId& client_device_id, std::uint64_t seq);
    /// Recomputes the cross-row flags (envelopes, duplicate ΚΑ codes) of the touched years,
    /// writes the digest and commits.
    core::Status commit();

   private:
    friend class MasterStore;
    struct State;
    /// Writes an accepted change's new values: the row, its revisions, the digest.
    core::Status apply_accepted(const changelog::Change& change, const merge::Decision& decision,
                                const merge::GroupState& before, const changelog::Revision& at);
    explicit Batch(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
  };
  core::Result<Batch> begin_batch();

  /// One durable commit for several writes (group commit): the transactions begun while it is
  /// open, batches included, become its savepoints, kept or undone each on its own and made
  /// durable together when it commits.
  core::Result<storage::Transaction> begin_group();

  // --- reads ---
  /// Log entries after `cursor`, at most `limit`.
  core::Result<std::vector<changelog::LogEntry>> log_after(std::uint64_t cursor, std::size_t limit);
  core::Result<Snapshot> snapshot();
  /// Everything a pull answers, from one read transaction, so the digest matches the page.
  core::Result<PullPage> read_page(const core::DeviceId& device, const PullQuery& query);
  /// The log entries of one device's changes from `first_seq` on: how a client that bootstrapped
  /// from a snapshot learns the outcomes of its own changes the snapshot already covers.
  core::Result<std::vector<changelog::LogEntry>> device_entries(const core::DeviceId& device,
                                                                std::uint64_t first_seq);
  core::Result<changelog::StateDigest> digest();
  core::Result<std::uint64_t> last_seq();
  core::Result<std::vector<ConflictRecord>> conflicts();
  core::Result<std::vector<Flag>> flags();

  // --- years and stages (master_stages.cpp) ---
  /// Every open programme year and where it stands, oldest first.
  core::Result<std::vector<merge::YearStage>> years();
  /// The stage moves of `year`, oldest first.
  core::Result<std::vector<StageEvent>> stage_events(int year);
  /// Moves `year`'s programme (merge::plan_stage_move), refused while a flag of the year is
  /// open; freezes the programme and records the move and its checkpoint, in one transaction.
  core::Result<StageEvent> move_stage(int year, const merge::StageMove& move, const Provenance& by,
                                      const std::string& user);
  /// Opens `year` (the year after the newest open one, listed in the reference years.csv) at
  /// `proposals`, recording the opening with the log's checkpoint. A year already open is
  /// answered with its first record and `true` (a retry changes nothing).
  core::Result<std::pair<StageEvent, bool>> start_year(int year, const Provenance& by,
                                                       const std::string& user);
  /// A year's programme now, frozen at a stage, or as the log stood at a moment.
  core::Result<Programme> programme(const ProgrammeQuery& query);
  core::Result<std::vector<DeviceRecord>> devices();
  /// Recomputes the chain from the first row over every stored column (each row under the
  /// chain version it was written with), checks the columns against the change's canonical
  /// bytes, the master against the accepted values of the log applied in order, and `heads`
  /// (chain heads clients hold) against the log. Errors only when the store cannot be read.
  core::Result<VerifyReport> verify(std::span<const HeldHead> heads = {});
  /// The problem with a chain head a client holds, against a verified log (empty: none).
  core::Result<std::string> check_head(const VerifyReport& report, const HeldHead& head);
  /// One page of history, answered from the log (master_history.cpp).
  core::Result<HistoryPage> history(const HistoryQuery& query);
  // --- backups (master_backup.cpp) ---
  /// Records a backup taken of this store; clients learn its position in the welcome.
  core::Status record_backup(const BackupRecord& backup);
  core::Result<std::optional<BackupRecord>> last_backup();
  /// After a restore: begins epoch `facts.epoch` (greater than every epoch before) with a log
  /// row that says so, and records the backup as covering the restored log. One transaction.
  core::Result<changelog::Revision> begin_epoch(const RestoreFacts& facts);
  /// After a restore: the enrolments and revocations of the store it replaced (`replaced_db`)
  /// that the backup predates. A device enrolled since keeps its token (with no changes on
  /// record: it re-sends them); a device revoked since stays revoked. Returns {enrolments kept,
  /// revocations kept}.
  core::Result<std::pair<std::size_t, std::size_t>> adopt_devices(
      const std::filesystem::path& replaced_db);
  core::Result<StoreHealth> health();

  /// verify() as a count of rows; kCorrupt with the first problem.
  core::Result<std::uint64_t> verify_chain();

 private:
  explicit MasterStore(std::unique_ptr<StoreConnection> connection);
  /// The snapshot's proposals after `after` up to about `max_bytes` of values (the reference
  /// files, envelopes and parked changes come with the first part); `more` says if it goes on.
  core::Result<Snapshot> snapshot_in_read(const std::string& after = {},
                                          std::size_t max_bytes = SIZE_MAX, bool* more = nullptr);
  std::unique_ptr<StoreConnection> impl_;  // internal: store_connection.h
  ServerInfo info_;
  model::ReferenceData reference_;
};

}  // namespace ergon::server

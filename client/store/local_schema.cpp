#include "client/store/local_schema.h"

#include <unistd.h>

namespace ergon::client {

using core::ErrorCode;
using core::fail;

namespace {

// Step 6: a first sync writes a dozen revisions for each proposal: one b-tree keyed by (entity,
// group) instead of a table and its key's index (bench/RESULTS.md, session 9).
constexpr std::string_view kKeyedRevisions = R"sql(
CREATE TABLE server_revisions_keyed (
  entity TEXT NOT NULL, grp TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  device TEXT NOT NULL DEFAULT '', user TEXT NOT NULL DEFAULT '', at_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (entity, grp)) WITHOUT ROWID;
INSERT INTO server_revisions_keyed (entity, grp, epoch, seq, device, user, at_ms)
  SELECT entity, grp, epoch, seq, device, user, at_ms FROM server_revisions;
DROP TABLE server_revisions;
ALTER TABLE server_revisions_keyed RENAME TO server_revisions;
)sql";

// One row per entity, its group revisions in one JSON object (see revision_object.h).
constexpr std::string_view kRevisionObjects = R"sql(
CREATE TABLE server_revisions_by_entity (entity TEXT PRIMARY KEY, groups TEXT NOT NULL);
INSERT INTO server_revisions_by_entity (entity, groups)
  SELECT entity, json_group_object(grp, json_array(epoch, seq, device, user, at_ms))
  FROM server_revisions GROUP BY entity;
DROP TABLE server_revisions;
ALTER TABLE server_revisions_by_entity RENAME TO server_revisions;
)sql";

// Protocol 2: a change's base is its horizon, what the home had seen of the whole log, where it
// was the revision of the edited group or the device's own earlier change to it. A queued change
// keeps its group's revision (never later than what the home had seen: at worst a conflict a
// person settles, never an overwrite); one based on an own change takes the horizon at the root
// of that chain (zero when it was a create or is gone).
constexpr std::string_view kOutboxHorizons = R"sql(
WITH RECURSIVE chain(device_seq, kind, epoch, seq, own) AS (
  SELECT device_seq, base_kind, base_epoch, base_seq, base_own_seq FROM outbox WHERE base_kind = 2
  UNION ALL
  SELECT chain.device_seq, o.base_kind, o.base_epoch, o.base_seq, o.base_own_seq
  FROM chain JOIN outbox o ON o.device_seq = chain.own WHERE chain.kind = 2),
root(device_seq, epoch, seq) AS (SELECT device_seq, epoch, seq FROM chain WHERE kind != 2)
UPDATE outbox SET base_kind = 1,
  base_epoch = coalesce((SELECT epoch FROM root WHERE root.device_seq = outbox.device_seq), 0),
  base_seq = coalesce((SELECT seq FROM root WHERE root.device_seq = outbox.device_seq), 0),
  base_own_seq = 0
WHERE base_kind = 2;
)sql";

}  // namespace

const std::vector<storage::Migration>& local_migrations() {
  static const std::vector<storage::Migration> steps = {
      {1, R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The last synced server state of each proposal, and the revision of each of its groups.
CREATE TABLE server_proposals (id TEXT PRIMARY KEY, vals BLOB NOT NULL);
CREATE TABLE server_revisions (entity TEXT NOT NULL, grp TEXT NOT NULL, epoch INTEGER NOT NULL,
                               seq INTEGER NOT NULL, PRIMARY KEY (entity, grp));
-- The device's own changes; device_seq runs 1, 2, 3... without gaps.
CREATE TABLE outbox (
  device_seq INTEGER PRIMARY KEY, entity_kind INTEGER NOT NULL, entity TEXT NOT NULL,
  grp TEXT NOT NULL, vals BLOB NOT NULL, base_kind INTEGER NOT NULL, base_epoch INTEGER NOT NULL,
  base_seq INTEGER NOT NULL, base_own_seq INTEGER NOT NULL, hlc_wall INTEGER NOT NULL,
  hlc_logical INTEGER NOT NULL, user TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  reason TEXT NOT NULL DEFAULT '');
CREATE INDEX outbox_by_group ON outbox (entity, grp, status);
-- What the user sees: server state with the pending outbox applied.
CREATE TABLE proposals (
  id TEXT PRIMARY KEY, year INTEGER NOT NULL, directorate TEXT NOT NULL, ka_code TEXT NOT NULL,
  title_key TEXT NOT NULL, state TEXT NOT NULL, search_key TEXT NOT NULL, vals BLOB NOT NULL);
CREATE INDEX proposals_by_ka ON proposals (year, ka_code);
CREATE INDEX proposals_by_title ON proposals (year, directorate, title_key);
)sql"},
      {2, R"sql(
CREATE TABLE server_envelopes (key TEXT PRIMARY KEY, amount INTEGER NOT NULL);
-- Conflicts parked on the server, and the incoming changes parked in each.
CREATE TABLE conflicts (epoch INTEGER NOT NULL, seq INTEGER NOT NULL, entity TEXT NOT NULL,
                        grp TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
                        PRIMARY KEY (epoch, seq));
CREATE TABLE conflict_changes (change_id TEXT PRIMARY KEY, conflict_epoch INTEGER NOT NULL,
                               conflict_seq INTEGER NOT NULL, device_id TEXT NOT NULL,
                               user TEXT NOT NULL, hlc_wall INTEGER NOT NULL, vals BLOB NOT NULL);
)sql"},
      // Sync reads only the pending changes; the history of decided ones grows without bound.
      {3, R"sql(
CREATE INDEX outbox_by_status ON outbox (status, device_seq);
)sql"},
      // Flag acknowledgements the server accepted: a flag stays acknowledged until its cause
      // grows past `level`.
      {4, R"sql(
CREATE TABLE flag_acks (id TEXT PRIMARY KEY, user TEXT NOT NULL, reason TEXT NOT NULL,
                        at_ms INTEGER NOT NULL, level INTEGER NOT NULL);
)sql"},
      // Who set each group's master value, so a conflict can name them: the device always,
      // the stated user and the device's clock when the change came through the log.
      {5, R"sql(
ALTER TABLE server_revisions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE server_revisions ADD COLUMN user TEXT NOT NULL DEFAULT '';
ALTER TABLE server_revisions ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;
)sql"},
      {6, kKeyedRevisions},
      {7, kRevisionObjects},
      {8, kOutboxHorizons},
  };
  return steps;
}

core::Error damaged_home(const std::filesystem::path& file, const std::string& what) {
  return {ErrorCode::kCorrupt,
          "the home's database is damaged (" + what + "); it was left exactly as it is. Restore " +
              file.string() +
              " from a backup of the home, or move it aside and run 'ergon init' for a new home "
              "(changes not yet synchronised are then lost: ask for help first)"};
}

core::Result<storage::Database> open_existing_home(const std::filesystem::path& file) {
  auto folder_writable =
      ::access(file.parent_path().c_str(), W_OK) == 0 && ::access(file.c_str(), W_OK) == 0;
  auto mode =
      folder_writable ? storage::Database::Mode::kExisting : storage::Database::Mode::kReadOnly;
  auto db = storage::Database::open(file, storage::Durability::kNormal, mode);
  if (!db && db.error().code == ErrorCode::kCorrupt)
    return fail(damaged_home(file, db.error().message));
  if (!db) return fail(db.error());
  if (mode == storage::Database::Mode::kExisting)
    ERGON_TRY(storage::migrate(*db, local_migrations()));
  return db;
}

}  // namespace ergon::client

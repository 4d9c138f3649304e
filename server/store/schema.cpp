#include "server/store/schema.h"

namespace ergon::server {

namespace {

// The schema steps, oldest first: data, kept out of the function that hands them out.
constexpr storage::Migration kSteps[] = {
    {1, R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE reference_files (name TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE devices (
  device_id TEXT PRIMARY KEY, client_device_id TEXT UNIQUE, role TEXT NOT NULL,
  directorate TEXT NOT NULL, name TEXT NOT NULL, secret_hash BLOB NOT NULL,
  bundle_key BLOB NOT NULL, enrolled_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
  high_water INTEGER NOT NULL DEFAULT 0);
CREATE TABLE proposals (
  id TEXT PRIMARY KEY, year INTEGER NOT NULL, directorate TEXT NOT NULL, ka_code TEXT NOT NULL,
  state TEXT NOT NULL, vals BLOB NOT NULL);
CREATE INDEX proposals_by_year ON proposals (year, ka_code);
CREATE TABLE envelopes (key TEXT PRIMARY KEY, year INTEGER NOT NULL, source TEXT NOT NULL,
                        amount INTEGER NOT NULL);
CREATE TABLE revisions (
  entity TEXT NOT NULL, grp TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  device_id TEXT NOT NULL, device_seq INTEGER NOT NULL, PRIMARY KEY (entity, grp));
CREATE TABLE log (
  seq INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, change_id TEXT NOT NULL UNIQUE,
  device_id TEXT NOT NULL, device_seq INTEGER NOT NULL, entity_kind INTEGER NOT NULL,
  entity TEXT NOT NULL, grp TEXT NOT NULL, vals BLOB NOT NULL, base_kind INTEGER NOT NULL,
  base_epoch INTEGER NOT NULL, base_seq INTEGER NOT NULL, base_own_seq INTEGER NOT NULL,
  hlc_wall INTEGER NOT NULL, hlc_logical INTEGER NOT NULL, user TEXT NOT NULL,
  outcome TEXT NOT NULL, reason TEXT NOT NULL, new_revision INTEGER NOT NULL,
  conflict_epoch INTEGER NOT NULL, conflict_seq INTEGER NOT NULL,
  horizon_epoch INTEGER NOT NULL, horizon_seq INTEGER NOT NULL, received_ms INTEGER NOT NULL,
  canonical BLOB NOT NULL, hash BLOB NOT NULL);
CREATE INDEX log_by_device ON log (device_id, device_seq);
CREATE TRIGGER log_is_append_only_update BEFORE UPDATE ON log
  BEGIN SELECT RAISE(ABORT, 'the change log is append-only: rows are never updated'); END;
CREATE TRIGGER log_is_append_only_delete BEFORE DELETE ON log
  BEGIN SELECT RAISE(ABORT, 'the change log is append-only: rows are never deleted'); END;
CREATE TABLE conflicts (
  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, entity TEXT NOT NULL, grp TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', PRIMARY KEY (epoch, seq));
CREATE INDEX conflicts_by_group ON conflicts (entity, grp, status);
CREATE TABLE flags (
  id TEXT NOT NULL, year INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL,
  raised_seq INTEGER NOT NULL, acknowledged_by TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (id, year));
)sql"},
    // Finds the changes parked in a conflict without scanning a device's whole history.
    {2, R"sql(
CREATE INDEX log_by_conflict ON log (conflict_epoch, conflict_seq, device_id) WHERE conflict_seq > 0;
)sql"},
    // The client's device key (bound with the device id at its first hello, proved at every
    // hello since), and when the device was last connected.
    {3, R"sql(
ALTER TABLE devices ADD COLUMN public_key BLOB NOT NULL DEFAULT x'';
ALTER TABLE devices ADD COLUMN last_seen_ms INTEGER NOT NULL DEFAULT 0;
)sql"},
    // The merge decision asks whether another device's accepted change to a group lies after
    // an editor's horizon: the log of one entity, in order.
    {4, R"sql(
CREATE INDEX log_by_entity ON log (entity, seq);
)sql"},
    // An acknowledged flag opens again when its cause grows past what was acknowledged.
    {5, R"sql(
ALTER TABLE flags ADD COLUMN ack_level INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Provenance the server stamps on each change (the enrolment it authenticated, its role
    // and directorate), and the chain version a row was hashed under: from version 2 on, the
    // hash covers every column (server/store/log_chain.h); older rows keep version 1.
    {6, R"sql(
ALTER TABLE log ADD COLUMN enrolment TEXT NOT NULL DEFAULT '';
ALTER TABLE log ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE log ADD COLUMN directorate TEXT NOT NULL DEFAULT '';
ALTER TABLE log ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;
)sql"},
    // The programme's years and stages: where each year stands, every stage move with its
    // decision and checkpoint (log position and chain head), and the frozen programme of each
    // stage, all append-only but `years`. Older stores had one year in meta.
    {7, R"sql(
CREATE TABLE years (
  year INTEGER PRIMARY KEY, stage TEXT NOT NULL, amendment_open INTEGER NOT NULL,
  drafts INTEGER NOT NULL DEFAULT 0, amendments INTEGER NOT NULL DEFAULT 0,
  opened_ms INTEGER NOT NULL DEFAULT 0);
INSERT INTO years (year, stage, amendment_open)
  SELECT CAST(y.value AS INTEGER), s.value, CAST(a.value AS INTEGER)
  FROM meta y, meta s, meta a WHERE y.key = 'year' AND s.key = 'stage' AND a.key = 'amendment_open';
CREATE TABLE stage_events (
  id INTEGER PRIMARY KEY, year INTEGER NOT NULL, name TEXT NOT NULL, action TEXT NOT NULL,
  body TEXT NOT NULL, number TEXT NOT NULL, date TEXT NOT NULL, ada TEXT NOT NULL,
  at_ms INTEGER NOT NULL, enrolment TEXT NOT NULL, user TEXT NOT NULL, epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL, chain_head BLOB NOT NULL, frozen INTEGER NOT NULL,
  proposals INTEGER NOT NULL);
CREATE TABLE stage_proposals (
  year INTEGER NOT NULL, stage TEXT NOT NULL, id TEXT NOT NULL, vals BLOB NOT NULL,
  PRIMARY KEY (year, stage, id));
CREATE TABLE stage_envelopes (
  year INTEGER NOT NULL, stage TEXT NOT NULL, key TEXT NOT NULL, amount INTEGER NOT NULL,
  PRIMARY KEY (year, stage, key));
CREATE TRIGGER stage_events_are_kept BEFORE UPDATE ON stage_events
  BEGIN SELECT RAISE(ABORT, 'stage records are never changed'); END;
CREATE TRIGGER stage_events_are_not_deleted BEFORE DELETE ON stage_events
  BEGIN SELECT RAISE(ABORT, 'stage records are never deleted'); END;
CREATE TRIGGER stage_proposals_are_frozen BEFORE UPDATE ON stage_proposals
  BEGIN SELECT RAISE(ABORT, 'a frozen stage is never changed'); END;
CREATE TRIGGER stage_proposals_are_kept BEFORE DELETE ON stage_proposals
  BEGIN SELECT RAISE(ABORT, 'a frozen stage is never deleted'); END;
CREATE TRIGGER stage_envelopes_are_frozen BEFORE UPDATE ON stage_envelopes
  BEGIN SELECT RAISE(ABORT, 'a frozen stage is never changed'); END;
CREATE TRIGGER stage_envelopes_are_kept BEFORE DELETE ON stage_envelopes
  BEGIN SELECT RAISE(ABORT, 'a frozen stage is never deleted'); END;
)sql"},
    // The merge decision's "changed by another device after the horizon" reads only accepted
    // new revisions of one entity from the horizon on, from a covering partial index, never the
    // entity's rows before the horizon (bench/RESULTS.md, #13: the write rate stays flat to 1M).
    {8, R"sql(
CREATE INDEX log_revisions_by_entity ON log (entity, epoch, seq, grp, device_id)
  WHERE outcome = 'accepted' AND new_revision = 1;
)sql"},
    // ... and still scanned every revision after the horizon: a flood of edits to one proposal
    // made each push slower and held the writer. Each group's row now keeps, beside its latest
    // revision, the latest by any other device than that one's: "changed by another device
    // since H" is then one comparison per group, whatever the entity's history. Filled here
    // from the log (a create counts for every group; an envelope's log rows name its key).
    {9, R"sql(
ALTER TABLE revisions ADD COLUMN other_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE revisions ADD COLUMN other_seq INTEGER NOT NULL DEFAULT 0;
UPDATE revisions SET other_epoch = log.epoch, other_seq = log.seq
  FROM (SELECT r.entity AS entity, r.grp AS grp,
          (SELECT l.seq FROM log l
            WHERE l.entity = (CASE WHEN r.entity LIKE 'envelope:%' THEN substr(r.entity, 10)
                                   ELSE r.entity END)
              AND l.outcome = 'accepted' AND l.new_revision = 1 AND l.device_id != r.device_id
              AND (l.grp = r.grp OR l.grp = 'create')
            ORDER BY l.epoch DESC, l.seq DESC LIMIT 1) AS seq
        FROM revisions r) AS other
  JOIN log ON log.seq = other.seq
  WHERE other.entity = revisions.entity AND other.grp = revisions.grp;
)sql"},
};

}  // namespace

const std::vector<storage::Migration>& master_migrations() {
  static const std::vector<storage::Migration> steps(std::begin(kSteps), std::end(kSteps));
  return steps;
}

}  // namespace ergon::server

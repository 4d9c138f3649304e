#pragma once
// Every statement of the client's store, in one place. Each is prepared once, on first use,
// by the store's storage::StatementCache; none is built per call.

#include <string_view>

namespace ergon::client::sql {

// --- settings ---
inline constexpr std::string_view kGetMeta = "SELECT value FROM meta WHERE key = ?1";
inline constexpr std::string_view kSetMeta =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
    "excluded.value";
inline constexpr std::string_view kKeepMeta =
    "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)";

// --- the view the user sees ---
inline constexpr std::string_view kViewGet = "SELECT vals FROM proposals WHERE id = ?1";
inline constexpr std::string_view kViewPut =
    "INSERT OR REPLACE INTO proposals (id, year, directorate, ka_code, title_key, state, "
    "search_key, vals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr std::string_view kViewDelete = "DELETE FROM proposals WHERE id = ?1";
inline constexpr std::string_view kViewDeleteAll = "DELETE FROM proposals";
inline constexpr std::string_view kViewByIdPrefix =
    "SELECT id FROM proposals WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6";
// The list filter: an empty parameter (or 0 for the year) means "any". ?4…?7 are up to four
// folded search words that must each appear in search_key; the caller checks any further words.
inline constexpr std::string_view kViewList =
    "SELECT vals, search_key FROM proposals WHERE (?1 = '' OR directorate = ?1) AND (?2 = '' OR "
    "state = ?2) AND (?3 = 0 OR year = ?3) AND (?4 = '' OR instr(search_key, ?4) > 0) AND (?5 = "
    "'' OR instr(search_key, ?5) > 0) AND (?6 = '' OR instr(search_key, ?6) > 0) AND (?7 = '' OR "
    "instr(search_key, ?7) > 0) ORDER BY directorate, ka_code, title_key";
inline constexpr int kListSearchWords = 4;
inline constexpr std::string_view kMatchKa =
    "SELECT id FROM proposals WHERE year = ?1 AND ka_code = ?2 LIMIT 2";
inline constexpr std::string_view kMatchTitle =
    "SELECT id FROM proposals WHERE year = ?1 AND directorate = ?2 AND title_key = ?3 LIMIT 1";

// --- the outbox of the device's own changes ---
inline constexpr std::string_view kOutboxInsert =
    "INSERT INTO outbox (device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, "
    "base_seq, base_own_seq, hlc_wall, hlc_logical, user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, ?11, ?12)";
inline constexpr std::string_view kOutboxLastForGroup =
    "SELECT max(device_seq) FROM outbox WHERE entity = ?1 AND (grp = ?2 OR grp = 'create') AND "
    "status = 'pending'";
// The earliest horizon among the entity's changes still in flight (a change's base is its
// horizon since protocol 2; the client's schema step 8 gave older rows theirs).
inline constexpr std::string_view kOutboxEarliestHorizon =
    "SELECT base_epoch, base_seq FROM outbox WHERE entity = ?1 AND status = 'pending' ORDER BY "
    "base_epoch, base_seq LIMIT 1";
// After a server restore: no change may claim to have seen more of the log than the restored
// server has (the entries beyond its head were lost; what replaced them was not seen).
inline constexpr std::string_view kOutboxClampHorizons =
    "UPDATE outbox SET base_epoch = ?1, base_seq = ?2 WHERE status = 'pending' AND base_kind = 1 "
    "AND (base_epoch > ?1 OR (base_epoch = ?1 AND base_seq > ?2))";
inline constexpr std::string_view kOutboxAll =
    "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
    "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox ORDER BY device_seq";
inline constexpr std::string_view kOutboxPending =
    "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
    "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox WHERE status = "
    "'pending' ORDER BY device_seq";
inline constexpr std::string_view kOutboxRequeue =
    "UPDATE outbox SET status = 'pending', reason = '' WHERE device_seq > ?1 AND status != "
    "'pending'";
inline constexpr std::string_view kOutboxDismiss =
    "UPDATE outbox SET status = 'dismissed' WHERE device_seq = ?1 AND status = 'rejected'";
inline constexpr std::string_view kOutboxOfEntity =
    "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
    "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox WHERE entity = ?1 "
    "ORDER BY device_seq";
inline constexpr std::string_view kOutboxOne =
    "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
    "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox WHERE device_seq = ?1";
// What the view replays over the server state: pending changes, and rejected ones of new
// proposals the server never accepted (kept, marked, until fixed and resent or dismissed).
inline constexpr std::string_view kOutboxReplay =
    "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
    "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox WHERE status IN "
    "('pending', 'rejected') ORDER BY device_seq";
// The same for one proposal (outbox_by_group): a page rebuilds only what it touched.
inline constexpr std::string_view kOutboxReplayEntity =
    "SELECT device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq, "
    "base_own_seq, hlc_wall, hlc_logical, user, status, reason FROM outbox WHERE entity = ?1 AND "
    "status IN ('pending', 'rejected') ORDER BY device_seq";
// New proposals the server rejected and the user has not yet resent or dismissed.
inline constexpr std::string_view kHeldCreates =
    "SELECT device_seq, entity, reason FROM outbox WHERE grp = 'create' AND status = 'rejected' "
    "AND entity_kind = 0 AND entity NOT IN (SELECT id FROM server_proposals) ORDER BY device_seq";
inline constexpr std::string_view kOutboxDismissEntity =
    "UPDATE outbox SET status = 'dismissed' WHERE entity = ?1 AND status = 'rejected'";
inline constexpr std::string_view kOutboxMark =
    "UPDATE outbox SET status = ?2, reason = ?3 WHERE device_seq = ?1 AND status = 'pending'";

// --- the last synced server state ---
inline constexpr std::string_view kServerProposal =
    "SELECT vals FROM server_proposals WHERE id = ?1";
inline constexpr std::string_view kServerProposals = "SELECT id, vals FROM server_proposals";
inline constexpr std::string_view kServerProposalPut =
    "INSERT OR REPLACE INTO server_proposals (id, vals) VALUES (?1, ?2)";
// server_revisions holds one JSON object per entity: {"group": [epoch, seq, device, user, at_ms]}.
inline constexpr std::string_view kServerRevision =
    "SELECT r ->> 0, r ->> 1 FROM (SELECT json_extract(groups, '$.\"' || ?2 || '\"') AS r FROM "
    "server_revisions WHERE entity = ?1) WHERE r IS NOT NULL";
// Merges the object ?2 into the entity's: its groups replace those stored, the others stay.
inline constexpr std::string_view kServerRevisionsMerge =
    "INSERT INTO server_revisions (entity, groups) VALUES (?1, json(?2)) ON CONFLICT (entity) DO "
    "UPDATE SET groups = json_patch(groups, excluded.groups)";
inline constexpr std::string_view kServerRevisionWho =
    "SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4 FROM (SELECT json_extract(groups, '$.\"' "
    "|| ?2 || '\"') AS r FROM server_revisions WHERE entity = ?1) WHERE r IS NOT NULL";
inline constexpr std::string_view kServerRevisionsAll =
    "SELECT entity, r.value ->> 0, r.value ->> 1 FROM server_revisions, json_each(groups) AS r";
inline constexpr std::string_view kServerHas = "SELECT 1 FROM server_proposals WHERE id = ?1";
inline constexpr std::string_view kServerEnvelopes = "SELECT key, amount FROM server_envelopes";
inline constexpr std::string_view kServerEnvelope =
    "SELECT amount FROM server_envelopes WHERE key = ?1";
inline constexpr std::string_view kServerEnvelopePut =
    "INSERT OR REPLACE INTO server_envelopes (key, amount) VALUES (?1, ?2)";
inline constexpr std::string_view kServerStateClear =
    "DELETE FROM server_proposals; DELETE FROM server_revisions; DELETE FROM server_envelopes; "
    "DELETE FROM conflict_changes; DELETE FROM conflicts; DELETE FROM flag_acks;";

// --- flag acknowledgements ---
inline constexpr std::string_view kFlagAckPut =
    "INSERT OR REPLACE INTO flag_acks (id, user, reason, at_ms, level) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr std::string_view kFlagAcks =
    "SELECT id, user, reason, at_ms, level FROM flag_acks";

// --- conflicts parked on the server ---
inline constexpr std::string_view kConflictPark =
    "INSERT OR IGNORE INTO conflicts (epoch, seq, entity, grp) VALUES (?1, ?2, ?3, ?4)";
inline constexpr std::string_view kConflictChangePark =
    "INSERT OR IGNORE INTO conflict_changes (change_id, conflict_epoch, conflict_seq, device_id, "
    "user, hlc_wall, vals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr std::string_view kConflictSettle =
    "UPDATE conflicts SET status = 'resolved' WHERE epoch = ?1 AND seq = ?2";
inline constexpr std::string_view kConflicts =
    "SELECT epoch, seq, entity, grp, status FROM conflicts ORDER BY epoch, seq";
inline constexpr std::string_view kConflictChanges =
    "SELECT change_id, device_id, user, hlc_wall, vals FROM conflict_changes WHERE "
    "conflict_epoch = ?1 AND conflict_seq = ?2 ORDER BY change_id";

}  // namespace ergon::client::sql

// The read path: log pages, the snapshot in parts, pull pages.

#include "server/store/master_store.h"
#include "server/store/store_connection.h"

namespace ergon::server {

using changelog::envelope_entity;
using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

// --- reads ---

core::Result<std::vector<changelog::LogEntry>> MasterStore::log_after(std::uint64_t cursor,
                                                                      std::size_t limit) {
  return read_entries(
      *impl_,
      "SELECT epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq, change_id, "
      "canonical, hash FROM log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
      [&](storage::Statement& s) { s.bind(1, cursor).bind(2, std::uint64_t{limit}); });
}

core::Result<std::vector<changelog::LogEntry>> MasterStore::device_entries(
    const core::DeviceId& device, std::uint64_t first_seq) {
  return read_entries(
      *impl_,
      "SELECT epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq, change_id, "
      "canonical, hash FROM log WHERE device_id = ?1 AND device_seq >= ?2 ORDER BY seq",
      [&](storage::Statement& s) { s.bind(1, device.hex()).bind(2, first_seq); });
}

core::Result<std::uint64_t> MasterStore::last_seq() {
  std::uint64_t seq = 0;
  ERGON_TRY(impl_->query(
      "SELECT coalesce(max(seq), 0) FROM log", [](storage::Statement&) {},
      [&](storage::Statement& s) { seq = s.column_uint64(0); }));
  return seq;
}

core::Result<changelog::StateDigest> MasterStore::digest() {
  auto hex = impl_->meta("digest");
  if (!hex) return fail(hex.error());
  auto value = parse_digest(*hex);
  if (!value) return fail(value.error());
  return changelog::StateDigest(*value);
}

core::Result<Snapshot> MasterStore::snapshot() {
  auto tx = impl_->db.begin_read();
  if (!tx) return fail(tx.error());
  return snapshot_in_read();
}

namespace {

// A snapshot's revision rows with the user and device clock of the change that set each (one
// lookup by the log's device index): a client's conflicts name who set the master's value.
constexpr std::string_view kRevisionSelect =
    "SELECT r.entity, r.grp, r.epoch, r.seq, r.device_id, r.device_seq, coalesce(l.user, ''), "
    "coalesce(l.hlc_wall, 0) FROM revisions r LEFT JOIN log l ON l.device_id = r.device_id AND "
    "l.device_seq = r.device_seq ";

// What only a bootstrap's first part carries: the revisions of non-proposal entities, the
// envelopes, the reference lists, the changes parked in open conflicts and the flag
// acknowledgements (log entries the client records as it would from a page).
template <class AddRevision>
core::Status add_whole_programme_parts(StoreConnection& impl, Snapshot& snap,
                                       AddRevision& add_revision) {
  ERGON_TRY(impl.query(
      std::string(kRevisionSelect) + "WHERE length(r.entity) != 32", [](storage::Statement&) {},
      add_revision));
  ERGON_TRY(impl.query(
      "SELECT key, amount FROM envelopes", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        snap.envelopes[s.column_text(0)] = model::Money::from_cents(s.column_int64(1));
      }));
  ERGON_TRY(impl.query(
      "SELECT name, content FROM reference_files", [](storage::Statement&) {},
      [&](storage::Statement& s) { snap.reference_files[s.column_text(0)] = s.column_blob(1); }));
  auto parked = read_entries(
      impl,
      "SELECT epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq, change_id, "
      "canonical, hash FROM log WHERE (outcome = 'conflict' AND EXISTS (SELECT 1 FROM conflicts c "
      "WHERE c.epoch = log.conflict_epoch AND c.seq = log.conflict_seq AND c.status = 'open')) "
      "OR (outcome = 'accepted' AND entity_kind = 3) ORDER BY seq",
      [](storage::Statement&) {});
  if (!parked) return fail(parked.error());
  snap.parked = std::move(*parked);
  return {};
}

}  // namespace

core::Result<Snapshot> MasterStore::snapshot_in_read(const std::string& after,
                                                     std::size_t max_bytes, bool* more) {
  Snapshot snap;
  ERGON_TRY(impl_->query(
      "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        snap.cursor = s.column_uint64(0);
        auto hash = hash_column(s, 1);
        if (!hash) return fail(hash.error());
        snap.chain_head = *hash;
        return {};
      }));
  auto digest_now = digest();
  if (!digest_now) return fail(digest_now.error());
  snap.digest = *digest_now;
  if (more) *more = false;
  std::vector<std::pair<std::string, std::string>> rows;  // id, values blob
  std::size_t bytes = 0;
  bool cut = false;
  ERGON_TRY(impl_->query(
      "SELECT id, vals FROM proposals WHERE id > ?1 ORDER BY id",
      [&](storage::Statement& s) { s.bind(1, after); },
      [&](storage::Statement& s) {
        // At least one proposal a page, so a page always moves the bootstrap on; past the
        // page's bytes the walk stops, so a page never reads the proposals after it.
        if (!rows.empty() && bytes > max_bytes) {
          cut = true;
          return false;
        }
        rows.emplace_back(s.column_text(0), s.column_blob(1));
        bytes += rows.back().second.size();
        return true;
      }));
  if (more) *more = cut;
  for (const auto& [id, blob] : rows) {
    auto values = changelog::decode_values(blob);
    if (!values) return fail(values.error());
    model::Proposal p;
    if (auto ok = model::apply_values(p, *values); !ok)
      return fail(ErrorCode::kCorrupt, "stored proposal " + id + ": " + ok.error().message);
    snap.proposals.push_back(std::move(p));
  }
  auto add_revision = [&](storage::Statement& s) -> core::Status {
    auto row = revision_row(s);
    if (!row) return fail(row.error());
    snap.revisions.push_back(std::move(*row));
    return {};
  };
  if (!rows.empty())
    ERGON_TRY(impl_->query(
        std::string(kRevisionSelect) +
            "WHERE r.entity > ?1 AND r.entity <= ?2 AND length(r.entity) = 32",
        [&](storage::Statement& s) { s.bind(1, after).bind(2, rows.back().first); }, add_revision));
  if (!after.empty()) return snap;  // the rest came with the first part
  ERGON_TRY(add_whole_programme_parts(*impl_, snap, add_revision));
  return snap;
}

core::Result<PullPage> MasterStore::read_page(const core::DeviceId& device,
                                              const PullQuery& query) {
  auto tx = impl_->db.begin_read();
  if (!tx) return fail(tx.error());
  PullPage page;
  std::uint64_t cursor = query.cursor;
  if (query.bootstrap && !query.snapshot_done) {
    auto snap = snapshot_in_read(query.snapshot_after, query.max_bytes, &page.snapshot_more);
    if (!snap) return fail(snap.error());
    if (query.snapshot_after.empty()) cursor = snap->cursor;  // the log replays from the first part
    if (page.snapshot_more) page.snapshot_next = snap->proposals.back().id.hex();
    page.snapshot = std::move(*snap);
  }
  if (query.bootstrap && !page.snapshot_more) {
    // The outcomes of the device's own changes the snapshot covers, in bounded pages too.
    auto own = read_entries(*impl_,
                            "SELECT epoch, seq, outcome, reason, new_revision, conflict_epoch, "
                            "conflict_seq, change_id, canonical, hash FROM log WHERE device_id = "
                            "?1 AND device_seq > ?2 ORDER BY seq LIMIT ?3",
                            [&](storage::Statement& s) {
                              s.bind(1, device.hex())
                                  .bind(2, std::min<std::uint64_t>(query.own_after, INT64_MAX))
                                  .bind(3, static_cast<std::int64_t>(query.limit + 1));
                            });
    if (!own) return fail(own.error());
    std::size_t bytes = 0;
    for (auto& e : *own) {
      if (page.own.size() == query.limit || (!page.own.empty() && bytes > query.max_bytes)) {
        page.own_more = true;
        break;
      }
      bytes += changelog::values_size(e.change);
      page.own.push_back(std::move(e));
    }
  }
  if (!page.snapshot_more && !page.own_more) {
    auto entries = log_after(cursor, query.limit);
    if (!entries) return fail(entries.error());
    page.entries = std::move(*entries);
  }
  ERGON_TRY(impl_->query(
      "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        page.head_seq = s.column_uint64(0);
        auto hash = hash_column(s, 1);
        if (!hash) return fail(hash.error());
        page.chain_head = *hash;
        return {};
      }));
  std::uint64_t reached = page.entries.empty() ? cursor : page.entries.back().outcome.position.seq;
  page.is_last_page = !page.snapshot_more && !page.own_more && reached >= page.head_seq;
  auto digest_now = digest();
  if (!digest_now) return fail(digest_now.error());
  page.digest = *digest_now;
  return page;
}

}  // namespace ergon::server

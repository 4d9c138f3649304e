// Verification of the change log: the hash chain over every row (each under the version it was
// written with), the stored columns against the change's canonical bytes, the master state
// against the accepted values of the log applied in order, and the chain heads clients hold.
// The first problem is reported with its row and what differs.

#include "server/store/log_chain.h"
#include "server/store/log_replay.h"
#include "server/store/master_store.h"
#include "server/store/store_connection.h"
#include "shared/changelog/canonical.h"
#include "shared/changelog/field_value_io.h"

namespace ergon::server {

using chain::Cell;
using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

namespace {

// The column positions verification reads, looked up once.
struct At {
  std::size_t seq, epoch, change_id, device_id, device_seq, entity_kind, entity, grp, vals,
      base_kind, base_epoch, base_seq, base_own_seq, hlc_wall, hlc_logical, user, outcome, reason,
      new_revision, conflict_epoch, conflict_seq, canonical, version;
  static const At& get() {
    static const At at = [] {
      auto i = [](std::string_view name) { return chain::index_of(name).value_or(0); };
      return At{i("seq"),          i("epoch"),       i("change_id"),    i("device_id"),
                i("device_seq"),   i("entity_kind"), i("entity"),       i("grp"),
                i("vals"),         i("base_kind"),   i("base_epoch"),   i("base_seq"),
                i("base_own_seq"), i("hlc_wall"),    i("hlc_logical"),  i("user"),
                i("outcome"),      i("reason"),      i("new_revision"), i("conflict_epoch"),
                i("conflict_seq"), i("canonical"),   i("chain_version")};
    }();
    return at;
  }
};

std::string row_name(std::uint64_t seq) { return "log row " + std::to_string(seq); }

// The first stored column that says something else than the change's canonical bytes.
std::optional<std::string> column_against_canonical(const std::vector<Cell>& cells,
                                                    const changelog::Change& c) {
  const auto& at = At::get();
  auto integer = [](std::int64_t v) { return Cell::of(v); };
  const std::pair<std::size_t, Cell> expected[] = {
      {at.change_id, Cell::text(changelog::change_id(c))},
      {at.device_id, Cell::text(c.device_id.hex())},
      {at.device_seq, Cell::of(c.device_seq)},
      {at.entity_kind, integer(static_cast<int>(c.entity.kind))},
      {at.entity, Cell::text(c.entity.key)},
      {at.grp, Cell::text(c.group)},
      {at.vals, Cell::blob(changelog::encode_values(c.values))},
      {at.base_kind, integer(static_cast<int>(c.base.kind))},
      {at.base_epoch, Cell::of(c.base.revision.epoch)},
      {at.base_seq, Cell::of(c.base.revision.seq)},
      {at.base_own_seq, Cell::of(c.base.own_seq)},
      {at.hlc_wall, integer(c.client_time.wall_ms)},
      {at.hlc_logical, integer(c.client_time.logical)},
      {at.user, Cell::text(c.user)},
  };
  for (const auto& [index, cell] : expected)
    if (cells[index] != cell)
      return "its column " + std::string(chain::columns()[index]) +
             " differs from the change as it was sent (its canonical bytes)";
  return std::nullopt;
}

core::Result<changelog::Outcome> outcome_of(const std::vector<Cell>& cells) {
  const auto& at = At::get();
  changelog::Outcome o;
  o.change_id = cells[at.change_id].bytes;
  o.position = {static_cast<std::uint64_t>(cells[at.epoch].integer),
                static_cast<std::uint64_t>(cells[at.seq].integer)};
  auto kind = changelog::parse_outcome_kind(cells[at.outcome].bytes);
  if (!kind) return fail(kind.error());
  o.kind = *kind;
  o.reason = cells[at.reason].bytes;
  o.is_new_revision = cells[at.new_revision].integer != 0;
  Revision conflict{static_cast<std::uint64_t>(cells[at.conflict_epoch].integer),
                    static_cast<std::uint64_t>(cells[at.conflict_seq].integer)};
  if (conflict.seq != 0) o.conflict = conflict;
  return o;
}

// One row: its chain step under its version, and its columns against its canonical bytes
// when they do not hash (the replay worker parses every row's canonical bytes). Returns the
// problem, if any; `previous` is the stored hash of the row before.
std::optional<std::string> check_row(const std::vector<Cell>& cells, const crypto::Digest& stored,
                                     const crypto::Digest& previous, bool after_v2,
                                     const changelog::Outcome& outcome) {
  const auto& at = At::get();
  auto version = cells[at.version].integer;
  if (version == 1 && after_v2) return "it claims chain version 1 after rows of version 2";
  if (version != 1 && version != chain::kVersion)
    return "its chain version " + std::to_string(version) + " is unknown";
  std::optional<changelog::Change> change;
  auto parse = [&] {
    if (!change)
      if (auto parsed = changelog::parse_canonical(cells[at.canonical].bytes)) change = *parsed;
    return change.has_value();
  };
  if (version == 1 && !parse()) return "its canonical bytes are damaged";
  auto expected = version == 1 ? changelog::chain_hash(previous, *change, outcome)
                               : chain::step(previous, cells);
  // Version 1 did not hash the columns, so they are checked against the canonical bytes; a
  // version-2 row whose hash holds has all its columns as written, and the comparison only
  // serves to name the column when it does not.
  if (version == 1 || expected != stored) {
    if (!parse()) return "its canonical bytes are damaged";
    if (auto column = column_against_canonical(cells, *change)) return column;
  }
  if (expected != stored)
    return "its hash does not match its columns and the previous row's hash: a column of this "
           "row or its hash was changed, or the row before was rewritten";
  return std::nullopt;
}

// The master's proposals and envelopes against what the replay built.
core::Result<std::string> compare_master(StoreConnection& impl, const Replay& replay,
                                         VerifyReport& report) {
  std::string problem;
  std::size_t seen = 0;
  ERGON_TRY(impl.query(
      "SELECT id, vals FROM proposals ORDER BY id", [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        ++report.proposals;
        if (!problem.empty()) return {};
        auto id = s.column_text(0);
        auto it = replay.proposals.find(id);
        if (it == replay.proposals.end()) {
          problem = "proposal " + id + " is in the master, but no accepted change created it";
          return {};
        }
        ++seen;
        auto stored = changelog::decode_values(s.column_blob(1));
        if (!stored) return fail(ErrorCode::kCorrupt, "proposal " + id + ": damaged values");
        for (const auto& [field, value] : model::all_values(it->second))
          if (auto found = stored->find(field); found == stored->end() || found->second != value) {
            problem = "proposal " + id;
            problem += ": its " + field + " is '";
            problem += found == stored->end() ? std::string() : found->second;
            problem += "' in the master, but the log's accepted changes give '" + value + "'";
            break;
          }
        return {};
      }));
  if (problem.empty() && seen != replay.proposals.size())
    problem = "the log's accepted changes create " + std::to_string(replay.proposals.size()) +
              " proposals, the master holds " + std::to_string(seen) + " of them";
  ERGON_TRY(impl.query(
      "SELECT key, amount FROM envelopes ORDER BY key", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        ++report.envelopes;
        auto it = replay.envelopes.find(s.column_text(0));
        if (problem.empty() && (it == replay.envelopes.end() || it->second != s.column_int64(1)))
          problem = "envelope " + s.column_text(0) +
                    ": its amount in the master is not the last accepted one in the log";
      }));
  if (problem.empty() && report.envelopes != replay.envelopes.size())
    problem = "the log sets " + std::to_string(replay.envelopes.size()) +
              " envelopes, the master holds " + std::to_string(report.envelopes);
  return problem;
}

// A head a client holds must be a row of this log with the same hash.
core::Result<std::string> head_problem(StoreConnection& impl, const HeldHead& head,
                                       const VerifyReport& report) {
  auto held = std::to_string(head.at.epoch) + "." + std::to_string(head.at.seq);
  if (head.at.seq > report.head_at.seq)
    return "the log ends at row " + std::to_string(report.head_at.seq) +
           ", but a client holds the chain head of row " + held + ": rows " +
           std::to_string(report.head_at.seq + 1) + " to " + std::to_string(head.at.seq) +
           " were removed";
  std::string problem;
  bool found = false;
  ERGON_TRY(impl.query(
      "SELECT epoch, hash FROM log WHERE seq = ?1",
      [&](storage::Statement& s) { s.bind(1, head.at.seq); },
      [&](storage::Statement& s) {
        found = true;
        if (s.column_uint64(0) != head.at.epoch)
          problem = "row " + std::to_string(head.at.seq) + " is of epoch " +
                    std::to_string(s.column_uint64(0)) + ", but a client holds it from epoch " +
                    std::to_string(head.at.epoch);
        else if (s.column_blob(1) != crypto::as_bytes(head.hash))
          problem = "row " + held +
                    " differs from the chain head a client holds: the log was "
                    "rewritten up to there";
      }));
  if (!found) return "row " + held + ", whose chain head a client holds, is missing";
  return problem;
}

// The log in order on this thread (gaps, stored hashes, chain steps), while the replay worker
// parses each row that holds and applies its accepted values.
struct ChainWalk {
  explicit ChainWalk(VerifyReport& out) : report(out) {}

  VerifyReport& report;
  LogReplayer replayer;
  crypto::Digest previous{};
  bool after_v2 = false;
  std::vector<Cell> cells;

  void next(storage::Statement& s) {
    static const auto hash_index = static_cast<int>(chain::columns().size());
    const auto& at = At::get();
    chain::read_cells(s, cells);
    auto seq = static_cast<std::uint64_t>(cells[at.seq].integer);
    auto stored = hash_column(s, hash_index);
    auto outcome = outcome_of(cells);
    std::optional<std::string> problem;
    if (seq != report.head_at.seq + 1)
      problem = report.head_at.seq + 1 == seq - 1
                    ? "row " + std::to_string(seq - 1) + " is missing"
                    : "rows " + std::to_string(report.head_at.seq + 1) + " to " +
                          std::to_string(seq - 1) + " are missing";
    else if (!stored)
      problem = stored.error().message;
    else if (!outcome)
      problem = "its outcome is damaged";
    else
      problem = check_row(cells, *stored, previous, after_v2, *outcome);
    if (problem) {
      report.broken_seq = seq;
      report.problem = row_name(seq) + ": " + *problem;
      return;
    }
    replayer.add(seq, cells[at.canonical].bytes,
                 outcome->kind == OutcomeKind::kAccepted && outcome->is_new_revision);
    after_v2 = after_v2 || cells[at.version].integer == chain::kVersion;
    if (!after_v2) ++report.v1_rows;
    previous = *stored;
    report.head_at = {static_cast<std::uint64_t>(cells[at.epoch].integer), seq};
    report.head = previous;
    ++report.rows;
  }
};

}  // namespace

core::Result<VerifyReport> MasterStore::verify(std::span<const HeldHead> heads) {
  VerifyReport report;
  ChainWalk walk{report};
  static const std::string select =
      "SELECT " + chain::column_list() + ", hash FROM log ORDER BY seq";
  ERGON_TRY(impl_->query(
      select, [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        if (report.problem.empty()) walk.next(s);
        return {};
      }));
  auto [replay, replayed] = walk.replayer.finish();
  if (replayed.seq != 0 && (!report.broken_seq || replayed.seq < *report.broken_seq)) {
    // Rows 1 … seq-1 verified; the head reported is the last of them.
    report.broken_seq = replayed.seq;
    report.problem = row_name(replayed.seq) + ": " + replayed.problem;
    report.rows = replayed.seq - 1;
    report.head_at = {0, replayed.seq - 1};
    report.head = {};
    ERGON_TRY(impl_->query(
        "SELECT epoch, hash FROM log WHERE seq = ?1",
        [&](storage::Statement& s) { s.bind(1, report.head_at.seq); },
        [&](storage::Statement& s) -> core::Status {
          report.head_at.epoch = s.column_uint64(0);
          auto hash = hash_column(s, 1);
          if (!hash) return fail(hash.error());
          report.head = *hash;
          return {};
        }));
  }
  if (!report.problem.empty()) return report;
  auto master = compare_master(*impl_, replay, report);
  if (!master) return fail(master.error());
  report.problem = *master;
  for (const auto& head : heads) {
    if (!report.problem.empty()) break;
    auto checked = head_problem(*impl_, head, report);
    if (!checked) return fail(checked.error());
    report.problem = *checked;
    ++report.heads_checked;
  }
  return report;
}

core::Result<std::string> MasterStore::check_head(const VerifyReport& report,
                                                  const HeldHead& head) {
  return head_problem(*impl_, head, report);
}

core::Result<std::uint64_t> MasterStore::verify_chain() {
  auto report = verify();
  if (!report) return fail(report.error());
  if (!report->problem.empty()) return fail(ErrorCode::kCorrupt, report->problem);
  return report->rows;
}

}  // namespace ergon::server

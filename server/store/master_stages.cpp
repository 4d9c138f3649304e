// The programme's years and stages: where each year stands, the stage moves with their
// decisions and checkpoints, the frozen programmes, and a year's programme at any point.

#include <algorithm>

#include "server/store/log_replay.h"
#include "server/store/master_store.h"
#include "server/store/store_connection.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kYearColumns = "year, stage, amendment_open, drafts, amendments";

merge::YearStage year_of_row(const storage::Statement& s) {
  merge::YearStage y;
  y.year = static_cast<int>(s.column_int64(0));
  y.stage = s.column_text(1);
  y.is_amendment_open = s.column_int64(2) != 0;
  y.drafts = static_cast<int>(s.column_int64(3));
  y.amendments = static_cast<int>(s.column_int64(4));
  return y;
}

core::Result<StageEvent> event_of_row(storage::Statement& s) {
  StageEvent e;
  e.year = static_cast<int>(s.column_int64(0));
  e.name = s.column_text(1);
  auto action_text = s.column_text(2);
  // "open" records an amendment opened by an advance, "start" a year opened.
  e.opens_amendment = action_text == "open";
  e.starts_year = action_text == "start";
  auto action = merge::parse_stage_action(
      e.opens_amendment || e.starts_year ? std::string_view("advance") : action_text);
  if (!action) return fail(ErrorCode::kCorrupt, "a stage record: " + action.error().message);
  e.action = *action;
  e.decision = {s.column_text(3), s.column_text(4), s.column_text(5), s.column_text(6)};
  e.at_ms = s.column_int64(7);
  e.enrolment = s.column_text(8);
  e.user = s.column_text(9);
  e.checkpoint = {s.column_uint64(10), s.column_uint64(11)};
  auto head = hash_column(s, 12);
  if (s.column_uint64(11) != 0) {
    if (!head) return fail(head.error());
    e.chain_head = *head;
  }
  e.frozen = s.column_int64(13) != 0;
  e.proposals = s.column_uint64(14);
  return e;
}

constexpr std::string_view kEventSelect =
    "SELECT year, name, action, body, number, date, ada, at_ms, enrolment, user, epoch, seq, "
    "chain_head, frozen, proposals FROM stage_events ";

// The open flags of a year, one line each: what refuses a stage move.
core::Result<std::string> open_flags(StoreConnection& impl, int year) {
  std::string lines;
  ERGON_TRY(impl.query(
      "SELECT id, detail FROM flags WHERE year = ?1 AND status = 'open' ORDER BY id",
      [&](storage::Statement& s) { s.bind(1, year); },
      [&](storage::Statement& s) {
        lines += "\n  " + s.column_text(0) + ": " + s.column_text(1);
      }));
  return lines;
}

// Why a draft cannot be frozen yet: the year's proposals still undecided (draft or submitted),
// how many and the first ids. Empty when every one is decided or withdrawn.
core::Result<std::string> undecided(StoreConnection& impl, int year) {
  std::uint64_t count = 0;
  std::string first;
  ERGON_TRY(impl.query(
      "SELECT id FROM proposals WHERE year = ?1 AND state IN ('draft', 'submitted') ORDER BY id",
      [&](storage::Statement& s) { s.bind(1, year); },
      [&](storage::Statement& s) {
        if (++count <= 5) first += (first.empty() ? "" : ", ") + s.column_text(0).substr(0, 8);
      }));
  if (count == 0) return std::string();
  return std::to_string(count) + (count == 1 ? " proposal is" : " proposals are") +
         " still undecided (" + first + (count > 5 ? ", …" : "") +
         "); planning decides each first: 'ergon decide ID… included|deferred|rejected' (see "
         "'ergon list --state submitted' and '--state draft')";
}

// What refuses an allowed move: open flags; a decision dated before the previous move's or
// after today; a draft frozen with proposals still undecided (#27).
core::Status check_move(StoreConnection& impl, int year, const merge::PlannedMove& planned,
                        const std::vector<StageEvent>& events) {
  auto flags = open_flags(impl, year);
  if (!flags) return fail(flags.error());
  if (!flags->empty())
    return fail(ErrorCode::kStageLocked,
                "the programme of " + std::to_string(year) +
                    " cannot move while flags are open; acknowledge each with a reason "
                    "('ergon flag ack ID --reason TEXT') or fix its cause:" +
                    *flags);
  std::string previous;
  for (const auto& past : events)
    if (!past.decision.date.empty()) previous = past.decision.date;
  ERGON_TRY(merge::check_decision_date(planned.decision.date, previous,
                                       core::format_local(impl.clock->now_ms()).substr(0, 10)));
  if (!planned.name.starts_with("draft")) return {};
  auto pending = undecided(impl, year);
  if (!pending) return fail(pending.error());
  if (pending->empty()) return {};
  return fail(ErrorCode::kStageLocked, "the programme of " + std::to_string(year) +
                                           " cannot be frozen as " + planned.name + ": " +
                                           *pending);
}

core::Status freeze(StoreConnection& impl, int year, const std::string& name) {
  auto bind = [&](storage::Statement& s) { s.bind(1, year).bind(2, name); };
  ERGON_TRY(
      impl.run("INSERT INTO stage_proposals (year, stage, id, vals) SELECT ?1, ?2, id, "
               "vals FROM proposals WHERE year = ?1",
               bind));
  return impl.run(
      "INSERT INTO stage_envelopes (year, stage, key, amount) SELECT ?1, ?2, key, "
      "amount FROM envelopes WHERE year = ?1",
      bind);
}

// The log's last row and its hash: where the programme stood at the event.
core::Status read_checkpoint(StoreConnection& impl, StageEvent& e) {
  return impl.query(
      "SELECT epoch, seq, hash FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        e.checkpoint = {s.column_uint64(0), s.column_uint64(1)};
        auto head = hash_column(s, 2);
        if (!head) return fail(head.error());
        e.chain_head = *head;
        return {};
      });
}

core::Status record(StoreConnection& impl, const StageEvent& e, std::string_view action) {
  return impl.run(
      "INSERT INTO stage_events (year, name, action, body, number, date, ada, at_ms, enrolment, "
      "user, epoch, seq, chain_head, frozen, proposals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
      "?9, ?10, ?11, ?12, ?13, ?14, ?15)",
      [&](storage::Statement& s) {
        s.bind(1, e.year).bind(2, e.name).bind(3, action);
        s.bind(4, e.decision.body).bind(5, e.decision.number).bind(6, e.decision.date);
        s.bind(7, e.decision.ada).bind(8, e.at_ms).bind(9, e.enrolment).bind(10, e.user);
        s.bind(11, e.checkpoint.epoch).bind(12, e.checkpoint.seq);
        s.bind(13, storage::Blob{crypto::as_bytes(e.chain_head)});
        s.bind(14, e.frozen ? 1 : 0).bind(15, e.proposals);
      });
}

}  // namespace

core::Result<std::vector<merge::YearStage>> MasterStore::years() {
  std::vector<merge::YearStage> out;
  static const std::string sql =
      "SELECT " + std::string(kYearColumns) + " FROM years ORDER BY year";
  ERGON_TRY(impl_->query(
      sql, [](storage::Statement&) {},
      [&](storage::Statement& s) { out.push_back(year_of_row(s)); }));
  return out;
}

core::Result<std::vector<StageEvent>> MasterStore::stage_events(int year) {
  std::vector<StageEvent> out;
  static const std::string sql = std::string(kEventSelect) + "WHERE year = ?1 ORDER BY id";
  ERGON_TRY(impl_->query(
      sql, [&](storage::Statement& s) { s.bind(1, year); },
      [&](storage::Statement& s) -> core::Status {
        auto e = event_of_row(s);
        if (!e) return fail(e.error());
        out.push_back(std::move(*e));
        return {};
      }));
  return out;
}

core::Result<StageEvent> MasterStore::move_stage(int year, const merge::StageMove& move,
                                                 const Provenance& by, const std::string& user) {
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  auto all = years();
  if (!all) return fail(all.error());
  auto now = std::find_if(all->begin(), all->end(), [&](const auto& y) { return y.year == year; });
  if (now == all->end())
    return fail(ErrorCode::kNotFound,
                "the programme of " + std::to_string(year) + " is not open on this server");
  auto planned = merge::plan_stage_move(*now, move);
  if (!planned) return fail(planned.error());
  auto events = stage_events(year);
  if (!events) return fail(events.error());
  ERGON_TRY(check_move(*impl_, year, *planned, *events));
  StageEvent e;
  e.year = year;
  e.name = planned->name;
  e.action = move.action;
  e.opens_amendment = !planned->freezes;
  e.decision = planned->decision;
  e.at_ms = impl_->clock->now_ms();
  e.enrolment = by.enrolment;
  e.user = user;
  e.frozen = planned->freezes;
  ERGON_TRY(read_checkpoint(*impl_, e));
  if (e.frozen) {
    ERGON_TRY(freeze(*impl_, year, e.name));
    ERGON_TRY(impl_->query(
        "SELECT count(*) FROM proposals WHERE year = ?1",
        [&](storage::Statement& s) { s.bind(1, year); },
        [&](storage::Statement& s) { e.proposals = s.column_uint64(0); }));
  }
  ERGON_TRY(record(*impl_, e, e.opens_amendment ? "open" : merge::to_string(move.action)));
  const auto& after = planned->after;
  ERGON_TRY(impl_->run(
      "UPDATE years SET stage = ?2, amendment_open = ?3, drafts = ?4, amendments = ?5 WHERE year "
      "= ?1",
      [&](storage::Statement& s) {
        s.bind(1, year).bind(2, after.stage).bind(3, after.is_amendment_open ? 1 : 0);
        s.bind(4, after.drafts).bind(5, after.amendments);
      }));
  ERGON_TRY(tx->commit());
  return e;
}

core::Result<std::pair<StageEvent, bool>> MasterStore::start_year(int year, const Provenance& by,
                                                                  const std::string& user) {
  auto tx = impl_->db.begin_immediate();
  if (!tx) return fail(tx.error());
  auto all = years();
  if (!all) return fail(all.error());
  bool is_open =
      std::any_of(all->begin(), all->end(), [&](const auto& y) { return y.year == year; });
  if (is_open) {
    auto events = stage_events(year);
    if (!events) return fail(events.error());
    StageEvent first;
    first.year = year;
    first.name = "proposals";
    if (!events->empty()) first = events->front();
    return std::pair{first, true};
  }
  int next = all->empty() ? year : all->back().year + 1;
  if (year != next)
    return fail(ErrorCode::kInvalidArgument, "year: the next programme to start is " +
                                                 std::to_string(next) + ", not " +
                                                 std::to_string(year));
  if (!reference_.allowed_categories.contains(year))
    return fail(ErrorCode::kInvalidArgument,
                "year: " + std::to_string(year) +
                    " is not in the server's reference years.csv; add the year and its "
                    "categories to the reference data first");
  StageEvent e;
  e.year = year;
  e.name = "proposals";
  e.at_ms = impl_->clock->now_ms();
  e.enrolment = by.enrolment;
  e.user = user;
  ERGON_TRY(read_checkpoint(*impl_, e));
  ERGON_TRY(impl_->run(
      "INSERT INTO years (year, stage, amendment_open, opened_ms) VALUES (?1, 'proposals', 0, ?2)",
      [&](storage::Statement& s) { s.bind(1, year).bind(2, e.at_ms); }));
  e.starts_year = true;
  ERGON_TRY(record(*impl_, e, "start"));
  ERGON_TRY(tx->commit());
  return std::pair{e, false};
}

namespace {

// The stage's frozen programme: the latest freeze under that name.
core::Status read_frozen(StoreConnection& impl, Programme& out, const std::string& stage) {
  auto bind = [&](storage::Statement& s) { s.bind(1, out.year).bind(2, stage); };
  ERGON_TRY(impl.query(
      "SELECT id, vals FROM stage_proposals WHERE year = ?1 AND stage = ?2 ORDER BY id", bind,
      [&](storage::Statement& s) -> core::Status {
        auto values = changelog::decode_values(s.column_blob(1));
        if (!values)
          return fail(ErrorCode::kCorrupt,
                      "frozen proposal " + s.column_text(0) + ": " + values.error().message);
        out.proposals[s.column_text(0)] = std::move(*values);
        return {};
      }));
  return impl.query(
      "SELECT key, amount FROM stage_envelopes WHERE year = ?1 AND stage = ?2", bind,
      [&](storage::Statement& s) { out.envelopes[s.column_text(0)] = s.column_int64(1); });
}

core::Status read_current(StoreConnection& impl, Programme& out) {
  auto bind = [&](storage::Statement& s) { s.bind(1, out.year); };
  ERGON_TRY(impl.query("SELECT id, vals FROM proposals WHERE year = ?1 ORDER BY id", bind,
                       [&](storage::Statement& s) -> core::Status {
                         auto values = changelog::decode_values(s.column_blob(1));
                         if (!values)
                           return fail(ErrorCode::kCorrupt, "proposal " + s.column_text(0) + ": " +
                                                                values.error().message);
                         out.proposals[s.column_text(0)] = std::move(*values);
                         return {};
                       }));
  ERGON_TRY(impl.query(
      "SELECT key, amount FROM envelopes WHERE year = ?1", bind,
      [&](storage::Statement& s) { out.envelopes[s.column_text(0)] = s.column_int64(1); }));
  return impl.query(
      "SELECT epoch, seq FROM log ORDER BY seq DESC LIMIT 1", [](storage::Statement&) {},
      [&](storage::Statement& s) {
        out.at = {s.column_uint64(0), s.column_uint64(1)};
      });
}

// The log's accepted values up to the moment, applied in order: the programme as it stood.
core::Status replay_until(StoreConnection& impl, Programme& out, std::int64_t as_of_ms) {
  Replay replay;
  ERGON_TRY(impl.query(
      "SELECT epoch, seq, canonical FROM log WHERE received_ms <= ?1 AND outcome = 'accepted' "
      "AND new_revision = 1 ORDER BY seq",
      [&](storage::Statement& s) { s.bind(1, as_of_ms); },
      [&](storage::Statement& s) -> core::Status {
        out.at = {s.column_uint64(0), s.column_uint64(1)};
        auto change = changelog::parse_canonical(s.column_blob(2));
        if (!change)
          return fail(ErrorCode::kCorrupt,
                      "log row " + std::to_string(out.at.seq) + ": damaged canonical bytes");
        return replay.apply(*change);
      }));
  for (const auto& [id, proposal] : replay.proposals)
    if (proposal.year == out.year) out.proposals[id] = model::all_values(proposal);
  auto prefix = std::to_string(out.year) + ":";
  for (const auto& [key, cents] : replay.envelopes)
    if (key.starts_with(prefix)) out.envelopes[key] = cents;
  return {};
}

}  // namespace

core::Result<Programme> MasterStore::programme(const ProgrammeQuery& query) {
  auto tx = impl_->db.begin_read();
  if (!tx) return fail(tx.error());
  Programme out;
  out.year = query.year;
  if (!query.stage.empty()) {
    auto events = stage_events(query.year);
    if (!events) return fail(events.error());
    std::string names;
    for (const auto& e : *events) {
      if (!e.frozen) continue;
      if (e.name == query.stage) out.stage = e;  // the latest freeze of that name
      names += (names.empty() ? "" : ", ") + e.name;
    }
    if (!out.stage)
      return fail(ErrorCode::kNotFound,
                  "the programme of " + std::to_string(query.year) + " has no frozen stage '" +
                      query.stage + "'" +
                      (names.empty() ? "; nothing is frozen yet" : "; its stages are " + names));
    out.at = out.stage->checkpoint;
    ERGON_TRY(read_frozen(*impl_, out, query.stage));
  } else if (query.as_of_ms != 0) {
    ERGON_TRY(replay_until(*impl_, out, query.as_of_ms));
  } else {
    ERGON_TRY(read_current(*impl_, out));
  }
  return out;
}

}  // namespace ergon::server

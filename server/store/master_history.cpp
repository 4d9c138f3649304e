// History: the log read back for people. Each row becomes an event with its fields' old values
// (the last accepted write of the same group before it), the provenance the server stamped and
// what the client stated. Rows of chain version 1 carry no stamped provenance: they are shown
// with the enrolment their device is bound to now.

#include <map>

#include "server/store/master_store.h"
#include "server/store/store_connection.h"
#include "shared/changelog/field_value_io.h"
#include "shared/model/proposal.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kOfEntity =
    "SELECT seq, epoch, change_id, device_id, entity_kind, entity, grp, vals, hlc_wall, user, "
    "outcome, reason, conflict_epoch, conflict_seq, received_ms, enrolment, role, directorate "
    "FROM log WHERE entity = ?1 AND seq > ?2 AND (?3 = 0 OR received_ms >= ?3) AND (?4 = 0 OR "
    "received_ms < ?4) ORDER BY seq LIMIT ?5";
constexpr std::string_view kOfAll =
    "SELECT seq, epoch, change_id, device_id, entity_kind, entity, grp, vals, hlc_wall, user, "
    "outcome, reason, conflict_epoch, conflict_seq, received_ms, enrolment, role, directorate "
    "FROM log WHERE seq > ?1 AND (?2 = 0 OR received_ms >= ?2) AND (?3 = 0 OR received_ms < ?3) "
    "ORDER BY seq LIMIT ?4";
// The accepted writes of an entity before a row, newest first: the old values are in the first
// write of the same group (each carries the whole group) or the create.
constexpr std::string_view kEarlierWrites =
    "SELECT grp, vals FROM log WHERE entity = ?1 AND seq < ?2 AND outcome = 'accepted' AND "
    "new_revision = 1 ORDER BY seq DESC";

struct Bound {
  std::string enrolment, role, directorate;
};

// What an accepted row did, in the words history uses.
std::string kind_of(const HistoryEvent& e, const model::FieldValues& values) {
  if (e.entity_kind == changelog::EntityKind::kFlag) return "flag_ack";
  if (e.entity_kind == changelog::EntityKind::kEnvelope) return "envelope";
  if (e.entity_kind == changelog::EntityKind::kServer) return "restore";
  if (e.group == changelog::kCreateGroup) return "create";
  if (values.contains(std::string(changelog::kResolvesKey))) return "resolution";
  if (auto state = values.find("state"); state != values.end()) {
    auto parsed = model::parse_enum<model::State>(state->second);
    if (parsed && model::is_decided(*parsed)) return "decision";
  }
  return "edit";
}

core::Result<model::FieldValues> earlier_values(StoreConnection& impl, const HistoryEvent& e) {
  model::FieldValues old;
  if (e.group == changelog::kCreateGroup) return old;
  bool found = false;
  ERGON_TRY(impl.query(
      kEarlierWrites, [&](storage::Statement& s) { s.bind(1, e.entity).bind(2, e.position.seq); },
      [&](storage::Statement& s) -> core::Status {
        auto group = s.column_text(0);
        if (found || (group != e.group && group != changelog::kCreateGroup)) return {};
        found = true;
        auto values = changelog::decode_values(s.column_blob(1));
        if (!values) return fail(ErrorCode::kCorrupt, "an earlier log row has damaged values");
        old = std::move(*values);
        return {};
      }));
  return old;
}

core::Result<HistoryEvent> event_of(storage::Statement& s,
                                    const std::map<std::string, Bound>& bound,
                                    model::FieldValues& values) {
  HistoryEvent e;
  e.position = {s.column_uint64(1), s.column_uint64(0)};
  e.change_id = s.column_text(2);
  e.entity_kind = static_cast<changelog::EntityKind>(s.column_int64(4));
  e.entity = s.column_text(5);
  e.group = s.column_text(6);
  auto decoded = changelog::decode_values(s.column_blob(7));
  if (!decoded)
    return fail(ErrorCode::kCorrupt,
                "log row " + std::to_string(e.position.seq) + " has damaged values");
  values = std::move(*decoded);
  e.client_ms = s.column_int64(8);
  e.user = s.column_text(9);
  auto outcome = s.column_text(10);
  e.reason = s.column_text(11);
  if (s.column_uint64(13) != 0)
    e.conflict = changelog::Revision{s.column_uint64(12), s.column_uint64(13)};
  e.server_ms = s.column_int64(14);
  e.enrolment = s.column_text(15);
  e.role = s.column_text(16);
  e.directorate = s.column_text(17);
  if (e.enrolment.empty())  // a row of chain version 1: the device's binding now
    if (auto it = bound.find(s.column_text(3)); it != bound.end()) {
      e.enrolment = it->second.enrolment;
      e.role = it->second.role;
      e.directorate = it->second.directorate;
    }
  e.kind = outcome == "rejected"   ? "rejected"
           : outcome == "conflict" ? "conflict"
                                   : kind_of(e, values);
  return e;
}

}  // namespace

core::Result<HistoryPage> MasterStore::history(const HistoryQuery& q) {
  std::map<std::string, Bound> bound;  // client device id → its enrolment
  ERGON_TRY(impl_->query(
      "SELECT client_device_id, device_id, role, directorate FROM devices WHERE client_device_id "
      "IS NOT NULL",
      [](storage::Statement&) {},
      [&](storage::Statement& s) {
        bound[s.column_text(0)] = {s.column_text(1), s.column_text(2), s.column_text(3)};
      }));
  HistoryPage page;
  page.next_after = q.after_seq;
  std::size_t rows = 0;
  std::vector<std::pair<HistoryEvent, model::FieldValues>> read;
  auto bind = [&](storage::Statement& s) {
    auto limit = static_cast<std::int64_t>(q.limit);
    if (q.entity.empty())
      s.bind(1, q.after_seq).bind(2, q.since_ms).bind(3, q.until_ms).bind(4, limit);
    else
      s.bind(1, q.entity)
          .bind(2, q.after_seq)
          .bind(3, q.since_ms)
          .bind(4, q.until_ms)
          .bind(5, limit);
  };
  ERGON_TRY(impl_->query(q.entity.empty() ? kOfAll : kOfEntity, bind,
                         [&](storage::Statement& s) -> core::Status {
                           ++rows;
                           page.next_after = s.column_uint64(0);
                           model::FieldValues values;
                           auto e = event_of(s, bound, values);
                           if (!e) return fail(e.error());
                           if (!q.device.empty() && e->enrolment.rfind(q.device, 0) != 0) return {};
                           read.emplace_back(std::move(*e), std::move(values));
                           return {};
                         }));
  page.more = rows == q.limit;
  for (auto& [e, values] : read) {
    auto old = earlier_values(*impl_, e);
    if (!old) return fail(old.error());
    // The fields that moved (a create: those given); a write of equal values shows them all.
    std::vector<FieldChange> all;
    for (const auto& [name, value] : values) {
      if (name == changelog::kResolvesKey || name == "id" || (!q.field.empty() && name != q.field))
        continue;
      auto was = old->find(name);
      all.push_back({name, was == old->end() ? std::string() : was->second, value});
    }
    for (const auto& f : all)
      if (f.old_value != f.new_value) e.fields.push_back(f);
    if (e.fields.empty()) e.fields = std::move(all);
    if (!q.field.empty() && e.fields.empty()) continue;
    page.events.push_back(std::move(e));
  }
  return page;
}

}  // namespace ergon::server

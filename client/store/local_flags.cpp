// Flags as this client sees them: the same cross-row checks the server runs (merge::raise_flags)
// over the synced programme and this device's pending changes, and their acknowledgements.

#include <algorithm>

#include "client/store/local_sql.h"
#include "client/store/local_store.h"
#include "shared/core/numbers.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;

merge::YearFigures figures_of(int year, const std::vector<model::Proposal>& proposals,
                              std::map<std::string, model::Money> envelopes) {
  merge::YearFigures figures;
  figures.year = year;
  figures.envelopes = std::move(envelopes);
  for (const auto& p : proposals) {
    if (p.year != year) continue;
    bool is_live = p.state != model::State::kWithdrawn && p.state != model::State::kRejected;
    if (is_live && p.ka_code) {
      ++figures.live_ka_uses[p.ka_code->canonical()];
      figures.ka_users[p.ka_code->canonical()].push_back(p.id.hex());
    }
    if (p.state == model::State::kIncluded) figures.included.push_back(p);
  }
  return figures;
}

}  // namespace

core::Result<std::map<std::string, FlagAck>> LocalStore::flag_acks() {
  std::map<std::string, FlagAck> acks;
  auto stmt = statement(sql::kFlagAcks);
  if (!stmt) return fail(stmt.error());
  ERGON_TRY((*stmt)->for_each([&](storage::Statement& s) {
    acks[s.column_text(0)] = {s.column_text(1), s.column_text(2), s.column_int64(3),
                              s.column_int64(4)};
  }));
  auto pending = outbox(true);  // this device's own acknowledgements, not yet synchronised
  if (!pending) return fail(pending.error());
  for (const auto& e : *pending) {
    if (e.change.entity.kind != changelog::EntityKind::kFlag) continue;
    const auto& v = e.change.values;
    auto level =
        core::parse_number<std::int64_t>(v.contains("level") ? v.at("level") : "", "level");
    acks[e.change.entity.key] = {e.change.user, v.contains("reason") ? v.at("reason") : "",
                                 e.change.client_time.wall_ms, level.value_or(0)};
  }
  return acks;
}

core::Result<std::vector<FlagView>> LocalStore::flags(int year) {
  auto envelopes = envelope_view(year);
  if (!envelopes) return fail(envelopes.error());
  auto proposals = list(ListFilter{});  // this year's and the last (continuing works)
  if (!proposals) return fail(proposals.error());
  auto acks = flag_acks();
  if (!acks) return fail(acks.error());
  auto figures = figures_of(year, *proposals, *envelopes);
  merge::add_continuity(figures, *proposals);
  std::vector<FlagView> out;
  for (auto& [id, flag] : merge::raise_flags(figures)) {
    FlagView view{id, std::move(flag), std::nullopt};
    auto ack = acks->find(id);
    // An acknowledgement holds until the cause grows past what was acknowledged.
    if (ack != acks->end() && ack->second.level >= view.flag.level) view.acknowledged = ack->second;
    out.push_back(std::move(view));
  }
  return out;
}

core::Result<std::uint64_t> LocalStore::acknowledge_flag(const std::string& id,
                                                         const std::string& reason) {
  auto role = permission(merge::Role::kPlanning).role;
  if (auto refused = merge::check_flag_ack(id, reason, role == merge::Role::kPlanning,
                                           role == merge::Role::kBudget))
    return fail(reason.empty() ? ErrorCode::kInvalidArgument : ErrorCode::kPermissionDenied,
                *refused);
  auto year = merge::flag_year(id);
  if (!year)
    return fail(ErrorCode::kUsage, "'" + id +
                                       "' is not a flag id; they look like "
                                       "envelope:2024:1099 (see 'ergon flags')");
  auto raised = flags(*year);
  if (!raised) return fail(raised.error());
  auto it =
      std::find_if(raised->begin(), raised->end(), [&](const FlagView& f) { return f.id == id; });
  if (it == raised->end())
    return fail(ErrorCode::kNotFound,
                "flag " + id + " is not raised now (see 'ergon flags'); its cause went away");
  auto batch = begin_edits();
  if (!batch) return fail(batch.error());
  auto seq = batch->queue_change(changelog::EntityKind::kFlag, id, "ack",
                                 {{"reason", reason}, {"level", std::to_string(it->flag.level)}},
                                 changelog::Base{});
  if (!seq) return fail(seq.error());
  ERGON_TRY(batch->commit());
  return seq;
}

}  // namespace ergon::client

// The programme's stages over the wire: where each year stands and its stage records (any
// role), a stage move (planning; run on the store writer, since it freezes the master), and a
// year's programme now, at a frozen stage or at a moment (any role).

#include "server/api/request_router.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t kMaxStageText = 512;  // a decision's body, number, date or ΑΔΑ; a user

void to_proto(const merge::YearStage& y, wire::YearState* out) {
  out->set_year(y.year);
  out->set_stage(y.stage);
  out->set_amendment_open(y.is_amendment_open);
  out->set_drafts(y.drafts);
  out->set_amendments(y.amendments);
}

void to_proto(const StageEvent& e, wire::StageRecord* out) {
  out->set_year(e.year);
  out->set_name(e.name);
  out->set_action(e.starts_year       ? "start"
                  : e.opens_amendment ? "open"
                                      : std::string(merge::to_string(e.action)));
  auto* d = out->mutable_decision();
  d->set_body(e.decision.body);
  d->set_number(e.decision.number);
  d->set_date(e.decision.date);
  d->set_ada(e.decision.ada);
  out->set_at_ms(e.at_ms);
  out->set_enrolment(e.enrolment);
  out->set_user(e.user);
  out->mutable_checkpoint()->set_epoch(e.checkpoint.epoch);
  out->mutable_checkpoint()->set_seq(e.checkpoint.seq);
  out->set_chain_head(std::string(crypto::as_bytes(e.chain_head)));
  out->set_frozen(e.frozen);
  out->set_proposals(e.proposals);
}

// The year a request names (0: the newest open one), refused when it is not open.
core::Result<merge::YearStage> open_year(MasterStore& store, int asked) {
  auto years = store.years();
  if (!years) return fail(years.error());
  if (years->empty()) return fail(ErrorCode::kNotFound, "no programme year is open");
  if (asked == 0) return years->back();
  std::string open;
  for (const auto& y : *years) {
    if (y.year == asked) return y;
    open += (open.empty() ? "" : ", ") + std::to_string(y.year);
  }
  return fail(ErrorCode::kNotFound, "the programme of " + std::to_string(asked) +
                                        " is not open on this server; the open years are " + open);
}

}  // namespace

core::Result<wire::Message> RequestRouter::stages(std::uint64_t request_id,
                                                  const wire::StagesRequest& asked) {
  auto years = store_.years();
  if (!years) return fail(years.error());
  wire::Message m;
  m.set_request_id(request_id);
  auto* reply = m.mutable_stages_reply();
  for (const auto& y : *years) {
    if (asked.year() != 0 && asked.year() != y.year) continue;
    to_proto(y, reply->add_years());
    auto events = store_.stage_events(y.year);
    if (!events) return fail(events.error());
    for (const auto& e : *events) to_proto(e, reply->add_records());
  }
  if (asked.year() != 0 && reply->years_size() == 0)
    return fail(open_year(store_, asked.year()).error());
  return m;
}

core::Result<WriteJob> RequestRouter::stage_move(std::uint64_t request_id, const Admitted& admitted,
                                                 const wire::StageMoveRequest& asked) {
  const auto& d = asked.decision();
  for (const auto* text :
       {&asked.target(), &asked.user(), &d.body(), &d.number(), &d.date(), &d.ada()})
    if (text->size() > kMaxStageText)
      return fail(ErrorCode::kProtocol, "stage move: a text of " + std::to_string(text->size()) +
                                            " bytes; the limit is " +
                                            std::to_string(kMaxStageText));
  auto action = merge::parse_stage_action(asked.action());
  if (!action) return fail(ErrorCode::kProtocol, "stage move: " + action.error().message);
  if (admitted.record.role != merge::Role::kPlanning)
    return fail(ErrorCode::kPermissionDenied,
                "only planning moves the programme's stages; this device is enrolled as " +
                    std::string(merge::to_string(admitted.record.role)));
  merge::StageMove move{*action, asked.target(), {d.body(), d.number(), d.date(), d.ada()}};
  Provenance by{admitted.record.device_id, admitted.record.role, admitted.record.directorate};
  WriteJob job;
  job.work = [request_id, move, by, year = asked.year(),
              user = asked.user()](MasterStore& store) -> core::Result<wire::Message> {
    auto now = open_year(store, year);
    if (!now) return fail(now.error());
    auto event = store.move_stage(now->year, move, by, user);
    if (!event) return fail(event.error());
    auto after = open_year(store, now->year);
    if (!after) return fail(after.error());
    wire::Message m;
    m.set_request_id(request_id);
    to_proto(*event, m.mutable_stage_move_reply()->mutable_record());
    to_proto(*after, m.mutable_stage_move_reply()->mutable_year());
    return m;
  };
  return job;
}

core::Result<WriteJob> RequestRouter::year_start(std::uint64_t request_id, const Admitted& admitted,
                                                 const wire::YearStartRequest& asked) {
  if (asked.user().size() > kMaxStageText)
    return fail(ErrorCode::kProtocol,
                "year start: a user name of " + std::to_string(asked.user().size()) + " bytes");
  if (admitted.record.role != merge::Role::kPlanning)
    return fail(ErrorCode::kPermissionDenied,
                "only planning starts a programme year; this device is enrolled as " +
                    std::string(merge::to_string(admitted.record.role)));
  Provenance by{admitted.record.device_id, admitted.record.role, admitted.record.directorate};
  WriteJob job;
  job.work = [request_id, by, year = asked.year(),
              user = asked.user()](MasterStore& store) -> core::Result<wire::Message> {
    auto started = store.start_year(year, by, user);
    if (!started) return fail(started.error());
    auto now = open_year(store, year);
    if (!now) return fail(now.error());
    wire::Message m;
    m.set_request_id(request_id);
    auto* reply = m.mutable_year_start_reply();
    to_proto(started->first, reply->mutable_record());
    to_proto(*now, reply->mutable_year());
    reply->set_already_open(started->second);
    return m;
  };
  return job;
}

core::Result<wire::Message> RequestRouter::programme(std::uint64_t request_id,
                                                     const wire::ProgrammeRequest& asked) {
  if (asked.stage().size() > kMaxStageText)
    return fail(ErrorCode::kProtocol, "programme: a stage name is short");
  if (asked.as_of_ms() < 0)
    return fail(ErrorCode::kProtocol, "programme: a moment is milliseconds since 1970");
  auto year = open_year(store_, asked.year());
  if (!year) return fail(year.error());
  ProgrammeQuery query{year->year, {}, asked.as_of_ms()};
  if (!asked.stage().empty()) {
    auto name = merge::resolve_stage_name(*year, asked.stage());
    if (!name)
      return fail(
          ErrorCode::kNotFound,
          "'" + asked.stage() + "' is no frozen stage of " + std::to_string(year->year) +
              (year->drafts == 0 && asked.stage() == "draft" ? " (no draft is frozen yet)" : "") +
              "; stages are named draft, draft-N, consultation, committee, approved, "
              "amendment-N (ergon stages lists them)");
    query.stage = *name;
  }
  auto programme = store_.programme(query);
  if (!programme) return fail(programme.error());
  wire::Message m;
  m.set_request_id(request_id);
  auto* reply = m.mutable_programme_reply();
  reply->set_year(programme->year);
  for (const auto& [id, values] : programme->proposals) {
    auto* p = reply->add_proposals();
    for (const auto& [name, value] : values) {
      auto* field = p->add_values();
      field->set_name(name);
      field->set_value(value);
    }
  }
  for (const auto& [key, cents] : programme->envelopes) {
    auto* e = reply->add_envelopes();
    e->set_key(key);
    e->set_amount_cents(cents);
  }
  if (programme->stage) to_proto(*programme->stage, reply->mutable_stage());
  // Where the year stood then: the frozen stage asked, the stage now, or the last move made by
  // that moment (the table lists the programme proper from draft-1 on).
  std::string standing = query.stage.empty() ? year->stage : query.stage;
  if (query.stage.empty() && asked.as_of_ms() > 0) {
    auto events = store_.stage_events(year->year);
    if (!events) return fail(events.error());
    standing = "proposals";
    for (const auto& e : *events)
      if (e.at_ms <= asked.as_of_ms() && !e.starts_year) standing = e.name;
  }
  reply->set_standing(standing);
  reply->mutable_at()->set_epoch(programme->at.epoch);
  reply->mutable_at()->set_seq(programme->at.seq);
  return m;
}

}  // namespace ergon::server

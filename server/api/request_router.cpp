#include "server/api/request_router.h"

#include <algorithm>
#include <limits>

#include "shared/crypto/crypto.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

std::string RequestRouter::enrolment_of(std::string_view token) {
  auto dot = token.find('.');
  auto id = token.substr(0, std::min<std::size_t>(dot, 64));
  // Only hex reaches a log line or a throttle key: a token is whatever a peer sent.
  if (id.empty() || id.find_first_not_of("0123456789abcdef") != std::string_view::npos) return {};
  return std::string(id);
}

namespace {

core::Status check_version(const wire::Hello& hello) {
  if (hello.min_version() > wire::kProtocolVersion || hello.max_version() < wire::kProtocolVersion)
    return fail(ErrorCode::kVersionMismatch,
                "this server speaks protocol version " + std::to_string(wire::kProtocolVersion) +
                    "; the client speaks " + std::to_string(hello.min_version()) + " to " +
                    std::to_string(hello.max_version()) + ": upgrade the older side");
  return {};
}

}  // namespace

core::Result<Admitted> RequestRouter::admit(const wire::Hello& hello,
                                            std::string_view session_binding) {
  ERGON_TRY(check_version(hello));
  if (hello.client_device_id().size() != 16)
    return fail(ErrorCode::kProtocol, "hello: the client device id must be 16 bytes");
  if (hello.client_device_id() == std::string(16, '\0'))
    return fail(ErrorCode::kProtocol,
                "hello: the all-zero device id is the server's own (its log events); a client "
                "makes a random one at 'ergon init'");
  auto record = store_.authenticate(hello.token());
  if (!record) return fail(record.error());
  return admit_record(std::move(*record), hello, session_binding);
}

core::Result<Admitted> RequestRouter::admit_bundle(const wire::Hello& hello, std::string_view nonce,
                                                   std::string_view body, std::string_view mac) {
  ERGON_TRY(check_version(hello));
  if (hello.client_device_id().size() != 16 || hello.client_device_id() == std::string(16, '\0'))
    return fail(ErrorCode::kProtocol, "the bundle's client device id is not one a client makes");
  // The token field carries only the enrolment id: the secret never travels in a bundle.
  auto record = store_.authenticate_bundle(hello.token(), body, mac);
  if (!record) return fail(record.error());
  return admit_record(std::move(*record), hello, nonce);
}

core::Result<Admitted> RequestRouter::admit_record(DeviceRecord record, const wire::Hello& hello,
                                                   std::string_view session_binding) {
  // The token names the enrolment; the key proves this is the client it was bound to. Device
  // ids are public (every log entry carries one), the private key never leaves the client.
  auto payload =
      wire::hello_proof_payload(session_binding, hello.client_device_id(), record.device_id);
  if (!crypto::verify_signature(hello.public_key(), payload, hello.proof()))
    return fail(ErrorCode::kUnauthenticated,
                "hello: the client did not prove it holds its device key; upgrade the client "
                "(ergon 0.2 or later makes its key at 'ergon init')");
  std::array<std::uint8_t, 16> raw{};
  std::copy(hello.client_device_id().begin(), hello.client_device_id().end(), raw.begin());
  core::DeviceId client(raw);
  Admitted a;
  if (record.client_device_id && *record.client_device_id != client)
    return fail(ErrorCode::kUnauthenticated,
                "this token was first used by another client (device " +
                    record.client_device_id->hex().substr(0, 8) +
                    "); each client needs its own enrolment: ask the administrator for a token");
  if (!record.public_key.empty() && record.public_key != hello.public_key())
    return fail(ErrorCode::kUnauthenticated,
                "this token is bound to another device key: the client's home was copied or "
                "re-created; ask the administrator for a new token for this laptop");
  a.needs_binding = !record.client_device_id || record.public_key.empty();
  a.public_key = hello.public_key();
  a.record = std::move(record);
  a.context.device_id = client;
  a.context.permission = merge::Permission{a.record.role, a.record.directorate, {}, {}};
  auto years = store_.years();
  if (!years) return fail(years.error());
  merge::set_years(a.context.permission, *years);
  return a;
}

core::Result<wire::Message> RequestRouter::welcome(std::uint64_t request_id,
                                                   const Admitted& admitted) {
  auto record = store_.device(admitted.record.device_id);  // the high-water mark as committed now
  if (!record) return fail(record.error());
  const auto& info = store_.info();
  wire::Message m;
  m.set_request_id(request_id);
  auto* w = m.mutable_welcome();
  w->set_version(wire::kProtocolVersion);
  w->set_server_id(info.server_id);
  w->set_epoch(info.epoch);
  w->set_role(std::string(merge::to_string(record->role)));
  w->set_directorate(record->directorate);
  auto years = store_.years();
  if (!years) return fail(years.error());
  const auto newest = years->empty() ? merge::YearStage{info.year} : years->back();
  w->set_year(newest.year);
  w->set_high_water_mark(record->high_water_mark);
  auto backup = store_.last_backup();
  if (!backup) return fail(backup.error());
  w->set_backup_seq(*backup ? (*backup)->seq : 0);
  w->set_enrolled_device_id(record->device_id);
  w->set_stage(newest.stage);
  auto municipality = store_.municipality();
  if (!municipality) return fail(municipality.error());
  w->set_municipality(*municipality);
  for (const auto& y : *years) {
    auto* state = w->add_years();
    state->set_year(y.year);
    state->set_stage(y.stage);
    state->set_amendment_open(y.is_amendment_open);
    state->set_drafts(y.drafts);
    state->set_amendments(y.amendments);
  }
  auto head = store_.last_seq();
  if (!head) return fail(head.error());
  w->set_log_head(*head);
  return m;
}

core::Result<Routed> RequestRouter::handle(const wire::Message& request, const Admitted& admitted) {
  auto id = request.request_id();
  if (request.has_ping()) {
    wire::Message pong;
    pong.set_request_id(id);
    pong.mutable_pong();
    return Routed{std::move(pong)};
  }
  if (request.has_push()) {
    auto job = decode_push(id, request.push());
    if (!job) return fail(job.error());
    return Routed{std::move(*job)};
  }
  if (request.has_pull()) {
    auto page = pull(id, admitted, request.pull());
    if (!page) return fail(page.error());
    return Routed{std::move(*page)};
  }
  if (request.has_history()) {
    auto page = history(id, admitted, request.history());
    if (!page) return fail(page.error());
    return Routed{std::move(*page)};
  }
  if (request.has_audit_verify()) {
    auto report = audit_verify(id, request.audit_verify());
    if (!report) return fail(report.error());
    return Routed{std::move(*report)};
  }
  if (request.has_stages()) {
    auto reply = stages(id, request.stages());
    if (!reply) return fail(reply.error());
    return Routed{std::move(*reply)};
  }
  if (request.has_stage_move()) {
    auto job = stage_move(id, admitted, request.stage_move());
    if (!job) return fail(job.error());
    return Routed{std::move(*job)};
  }
  if (request.has_year_start()) {
    auto job = year_start(id, admitted, request.year_start());
    if (!job) return fail(job.error());
    return Routed{std::move(*job)};
  }
  if (request.has_programme()) {
    auto reply = programme(id, request.programme());
    if (!reply) return fail(reply.error());
    return Routed{std::move(*reply)};
  }
  return fail(ErrorCode::kProtocol,
              "expected ping, push, pull, history, audit verify, stages, a stage move, a year "
              "start or a programme after the welcome");
}

core::Result<PushJob> RequestRouter::decode_push(std::uint64_t request_id,
                                                 const wire::PushRequest& push) {
  if (static_cast<std::size_t>(push.changes_size()) > kMaxBatchChanges)
    return fail(ErrorCode::kTooLarge, "a batch of " + std::to_string(push.changes_size()) +
                                          " changes; the limit is " +
                                          std::to_string(kMaxBatchChanges));
  PushJob job;
  job.request_id = request_id;
  job.changes.reserve(static_cast<std::size_t>(push.changes_size()));
  for (const auto& c : push.changes()) {
    auto change = wire::from_proto(c);
    if (!change) return fail(change.error());
    job.changes.push_back(std::move(*change));
  }
  return job;
}

wire::Message RequestRouter::push_reply(std::uint64_t request_id,
                                        const std::vector<changelog::Outcome>& outcomes) {
  wire::Message m;
  m.set_request_id(request_id);
  auto* reply = m.mutable_push_reply();
  for (const auto& o : outcomes) wire::to_proto(o, reply->add_outcomes());
  return m;
}

namespace {

// What a pull may carry of an entry: a rejected change's values stay with the device that
// typed them (it keeps them in its outbox); everyone else learns only that it was rejected.
changelog::LogEntry shareable(const changelog::LogEntry& entry) {
  if (entry.outcome.kind != changelog::OutcomeKind::kRejected) return entry;
  changelog::LogEntry stripped = entry;
  stripped.change = changelog::without_values(entry.change);
  return stripped;
}

}  // namespace

core::Result<wire::Message> RequestRouter::pull(std::uint64_t request_id, const Admitted& admitted,
                                                const wire::PullRequest& pull) {
  std::size_t limit = pull.max_entries() == 0
                          ? kMaxPageEntries
                          : std::min<std::size_t>(pull.max_entries(), kMaxPageEntries);
  // SQLite's integers are signed: a cursor above that range would wrap to a negative position
  // and select the whole log.
  if (pull.cursor() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return fail(ErrorCode::kProtocol, "pull: the cursor " + std::to_string(pull.cursor()) +
                                          " is beyond any log position");
  PullQuery query;
  query.cursor = pull.cursor();
  query.limit = limit;
  query.max_bytes = max_page_bytes_ / 2;  // the log entries below fill the rest
  query.bootstrap = pull.bootstrap();
  query.snapshot_after = pull.snapshot_after();
  query.snapshot_done = pull.snapshot_done();
  query.own_after = pull.own_after();
  auto page = store_.read_page(admitted.context.device_id, query);
  if (!page) return fail(page.error());
  wire::Message m;
  m.set_request_id(request_id);
  auto* reply = m.mutable_pull_reply();
  if (page->snapshot) wire::to_proto(*page->snapshot, reply->mutable_snapshot());
  for (const auto& e : page->own) wire::to_proto(shareable(e), reply->add_own());
  // Bounded by bytes as well as entries, so no page nears the frame cap whatever the log holds.
  // The size grows by each entry added, with room for its tag and length: measuring the whole
  // reply again for every entry cost O(entries²).
  constexpr std::size_t kEntryFraming = 8;
  std::size_t bytes = reply->ByteSizeLong();
  bool cut = false;
  for (const auto& e : page->entries) {
    if (reply->entries_size() > 0 && bytes > max_page_bytes_) {
      cut = true;
      break;
    }
    auto* entry = reply->add_entries();
    wire::to_proto(shareable(e), entry);
    bytes += entry->ByteSizeLong() + kEntryFraming;
  }
  reply->set_last_page(page->is_last_page && !cut);
  reply->set_snapshot_more(page->snapshot_more);
  reply->set_snapshot_next(page->snapshot_next);
  reply->set_own_more(page->own_more);
  reply->set_head_seq(page->head_seq);
  if (reply->last_page()) {
    reply->set_digest(std::string(crypto::as_bytes(page->digest.value())));
    reply->set_chain_head(std::string(crypto::as_bytes(page->chain_head)));
  }
  return m;
}

namespace {

constexpr std::size_t kMaxHistoryRows = 1000;
constexpr std::size_t kMaxHistoryText = 256;  // an entity, field or device named in a query

void to_proto(const HistoryEvent& e, wire::HistoryEvent* out) {
  out->mutable_position()->set_epoch(e.position.epoch);
  out->mutable_position()->set_seq(e.position.seq);
  out->set_kind(e.kind);
  out->set_entity_kind(static_cast<wire::EntityKind>(static_cast<int>(e.entity_kind)));
  out->set_entity(e.entity);
  out->set_group(e.group);
  for (const auto& f : e.fields) {
    auto* field = out->add_fields();
    field->set_name(f.name);
    field->set_old_value(f.old_value);
    field->set_new_value(f.new_value);
  }
  out->set_enrolment(e.enrolment);
  out->set_role(e.role);
  out->set_directorate(e.directorate);
  out->set_user(e.user);
  out->set_client_ms(e.client_ms);
  out->set_server_ms(e.server_ms);
  out->set_reason(e.reason);
  if (e.conflict) {
    out->mutable_conflict()->set_epoch(e.conflict->epoch);
    out->mutable_conflict()->set_seq(e.conflict->seq);
  }
  out->set_change_id(e.change_id);
}

}  // namespace

core::Result<wire::Message> RequestRouter::history(std::uint64_t request_id,
                                                   const Admitted& admitted,
                                                   const wire::HistoryRequest& asked) {
  if (asked.after_seq() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return fail(ErrorCode::kProtocol, "history: after_seq is beyond any log position");
  if (asked.since_ms() < 0 || asked.until_ms() < 0)
    return fail(ErrorCode::kProtocol, "history: times are milliseconds since 1970, never negative");
  for (const auto* text : {&asked.entity(), &asked.field(), &asked.device()})
    if (text->size() > kMaxHistoryText)
      return fail(ErrorCode::kProtocol, "history: a name of " + std::to_string(text->size()) +
                                            " bytes; the limit is " +
                                            std::to_string(kMaxHistoryText));
  HistoryQuery query{
      asked.entity(),
      asked.field(),
      asked.device(),
      asked.since_ms(),
      asked.until_ms(),
      asked.after_seq(),
      asked.limit() == 0 ? kMaxHistoryRows : std::min<std::size_t>(asked.limit(), kMaxHistoryRows)};
  auto page = store_.history(query);
  if (!page) return fail(page.error());
  wire::Message m;
  m.set_request_id(request_id);
  auto* reply = m.mutable_history_reply();
  for (const auto& e : page->events) {
    if (reply->events_size() > 0 && reply->ByteSizeLong() > max_page_bytes_) {
      page->more = true;  // the rest on the next page, from this event's row
      page->next_after = e.position.seq - 1;
      break;
    }
    to_proto(e, reply->add_events());
    // As in a pull: what a user typed in a rejected change stays with its device; planning and
    // auditors, who answer for the programme, see it too.
    auto role = admitted.record.role;
    bool sees_values = role == merge::Role::kPlanning || role == merge::Role::kAuditor ||
                       e.enrolment == admitted.record.device_id;
    if (e.kind == "rejected" && !sees_values) reply->mutable_events()->rbegin()->clear_fields();
  }
  reply->set_more(page->more);
  reply->set_next_after(page->next_after);
  return m;
}

core::Result<wire::Message> RequestRouter::audit_verify(std::uint64_t request_id,
                                                        const wire::AuditVerifyRequest& asked) {
  std::vector<HeldHead> heads;
  if (asked.has_held()) {
    HeldHead head{{asked.held().epoch(), asked.held().seq()}, {}};
    if (asked.held_hash().size() != head.hash.size())
      return fail(ErrorCode::kProtocol, "audit verify: a chain head is 32 bytes");
    std::copy(asked.held_hash().begin(), asked.held_hash().end(), head.hash.begin());
    heads.push_back(head);
  }
  auto last = store_.last_seq();
  if (!last) return fail(last.error());
  auto now = std::chrono::steady_clock::now();
  if (!verified_ || verified_->head_at.seq != *last || now - verified_at_ > kReuseVerification) {
    auto full = store_.verify();
    if (!full) return fail(full.error());
    verified_ = std::move(*full);
    verified_at_ = now;
  }
  VerifyReport report = *verified_;
  for (const auto& head : heads) {
    if (!report.problem.empty()) break;
    auto problem = store_.check_head(report, head);
    if (!problem) return fail(problem.error());
    report.problem = *problem;
    ++report.heads_checked;
  }
  wire::Message m;
  m.set_request_id(request_id);
  auto* reply = m.mutable_audit_verify_reply();
  reply->set_ok(report.problem.empty());
  reply->set_problem(report.problem);
  reply->set_broken_seq(report.broken_seq.value_or(0));
  reply->set_rows(report.rows);
  reply->set_v1_rows(report.v1_rows);
  reply->mutable_head()->set_epoch(report.head_at.epoch);
  reply->mutable_head()->set_seq(report.head_at.seq);
  reply->set_head_hash(std::string(crypto::as_bytes(report.head)));
  reply->set_proposals(report.proposals);
  reply->set_envelopes(report.envelopes);
  reply->set_heads_checked(report.heads_checked);
  return m;
}

}  // namespace ergon::server

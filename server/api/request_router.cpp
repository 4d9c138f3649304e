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

core::Result<Admitted> RequestRouter::admit(const wire::Hello& hello,
                                            std::string_view session_binding) {
  if (hello.min_version() > wire::kProtocolVersion || hello.max_version() < wire::kProtocolVersion)
    return fail(ErrorCode::kVersionMismatch,
                "this server speaks protocol version " + std::to_string(wire::kProtocolVersion) +
                    "; the client speaks " + std::to_string(hello.min_version()) + " to " +
                    std::to_string(hello.max_version()) + ": upgrade the older side");
  if (hello.client_device_id().size() != 16)
    return fail(ErrorCode::kProtocol, "hello: the client device id must be 16 bytes");
  auto record = store_.authenticate(hello.token());
  if (!record) return fail(record.error());
  // The token names the enrolment; the key proves this is the client it was bound to. Device
  // ids are public (every log entry carries one), the private key never leaves the client.
  auto payload =
      wire::hello_proof_payload(session_binding, hello.client_device_id(), record->device_id);
  if (!crypto::verify_signature(hello.public_key(), payload, hello.proof()))
    return fail(ErrorCode::kUnauthenticated,
                "hello: the client did not prove it holds its device key; upgrade the client "
                "(ergon 0.2 or later makes its key at 'ergon init')");
  std::array<std::uint8_t, 16> raw{};
  std::copy(hello.client_device_id().begin(), hello.client_device_id().end(), raw.begin());
  core::DeviceId client(raw);
  Admitted a;
  if (record->client_device_id && *record->client_device_id != client)
    return fail(ErrorCode::kUnauthenticated,
                "this token was first used by another client (device " +
                    record->client_device_id->hex().substr(0, 8) +
                    "); each client needs its own enrolment: ask the administrator for a token");
  if (!record->public_key.empty() && record->public_key != hello.public_key())
    return fail(ErrorCode::kUnauthenticated,
                "this token is bound to another device key: the client's home was copied or "
                "re-created; ask the administrator for a new token for this laptop");
  a.needs_binding = !record->client_device_id || record->public_key.empty();
  a.public_key = hello.public_key();
  a.record = std::move(*record);
  a.context.device_id = client;
  a.context.permission = merge::Permission{
      a.record.role, a.record.directorate, store_.info().stage, {store_.info().year}};
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
  w->set_year(info.year);
  w->set_high_water_mark(record->high_water_mark);
  w->set_backup_seq(0);
  w->set_enrolled_device_id(record->device_id);
  w->set_stage(info.stage.stage);
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
  return fail(ErrorCode::kProtocol, "expected ping, push or pull after the welcome");
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
  bool cut = false;
  for (const auto& e : page->entries) {
    if (reply->entries_size() > 0 && reply->ByteSizeLong() > max_page_bytes_) {
      cut = true;
      break;
    }
    wire::to_proto(shareable(e), reply->add_entries());
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

}  // namespace ergon::server

#include "server/bundle/bundle_service.h"

#include <variant>

#include "server/api/request_router.h"
#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/crypto/crypto.h"
#include "shared/net/tls.h"
#include "shared/wire/bundle.h"
#include "shared/wire/pull_plan.h"

namespace ergon::server::bundle {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t kNonceBytes = 16;
constexpr std::uint32_t kPageEntries = 1000;
// A bundle answers at most this many pages (a million log entries); a client further behind
// is answered with a snapshot, which is bounded by the programme, not by the log.
constexpr std::size_t kMaxPages = 1000;

// What authenticates a request, read from its bytes before the rest is decoded.
struct RequestHead {
  wire::Hello hello;
  std::string nonce, server_id;
};

core::Result<RequestHead> request_head(const wire::BundleFile& file,
                                       const std::filesystem::path& in) {
  auto fields = wire::top_level_fields(file.body(), {1, 2, 5});  // hello, nonce, server_id
  if (!fields) return fail(ErrorCode::kCorrupt, in.string() + ": " + fields.error().message);
  RequestHead head;
  if (!head.hello.ParseFromString((*fields)[1]))
    return fail(ErrorCode::kCorrupt, in.string() + " is damaged (its hello cannot be decoded)");
  head.nonce = (*fields)[2];
  head.server_id = (*fields)[5];
  return head;
}

core::Result<Admitted> admit(RequestRouter& router, MasterStore& store,
                             const wire::BundleFile& file, const RequestHead& head) {
  if (head.nonce.size() != kNonceBytes)
    return fail(ErrorCode::kProtocol, "the bundle's nonce is not 16 bytes");
  auto admitted = router.admit_bundle(head.hello, head.nonce, file.body(), file.mac());
  if (!admitted) return fail(admitted.error());
  if (!crypto::verify_signature(head.hello.public_key(), file.body(), file.signature()))
    return fail(ErrorCode::kUnauthenticated,
                "the bundle's device signature does not match its contents: it was altered");
  if (admitted->needs_binding) {
    auto bound =
        store.bind(admitted->record.device_id, admitted->context.device_id, admitted->public_key);
    if (!bound) return fail(bound.error());
  }
  return admitted;
}

core::Status push_all(RequestRouter& router, MasterStore& store, const Admitted& admitted,
                      const wire::BundleRequest& request, wire::BundleAnswer& answer,
                      Applied& applied) {
  MergeService merge(store);
  for (const auto& push : request.pushes()) {
    wire::Message m;
    *m.mutable_push() = push;
    auto routed = router.handle(m, admitted);
    if (!routed) return fail(routed.error());
    auto* job = std::get_if<PushJob>(&*routed);
    if (!job) return fail(ErrorCode::kInternal, "a push was not routed as a push");
    auto outcomes = merge.apply_batch(admitted.context, job->changes);
    if (!outcomes) return fail(outcomes.error());
    for (const auto& o : *outcomes) {
      ++applied.changes;
      if (o.is_duplicate) ++applied.duplicates;
      if (o.kind == changelog::OutcomeKind::kAccepted) ++applied.accepted;
      if (o.kind == changelog::OutcomeKind::kConflict) ++applied.conflicts;
      if (o.kind == changelog::OutcomeKind::kRejected) ++applied.rejected;
    }
    *answer.add_pushes() = router.push_reply(0, *outcomes).push_reply();
  }
  return {};
}

// The pages a sync would fetch from where the client stands, in the order it applies them.
core::Status pull_all(RequestRouter& router, const Admitted& admitted, wire::PullPlan plan,
                      wire::BundleAnswer& answer) {
  for (std::size_t pages = 0; pages < kMaxPages; ++pages) {
    wire::Message m;
    *m.mutable_pull() = plan.request(kPageEntries);
    auto routed = router.handle(m, admitted);
    if (!routed) return fail(routed.error());
    const auto* reply = std::get_if<wire::Message>(&*routed);
    if (!reply || !reply->has_pull_reply())
      return fail(ErrorCode::kInternal, "a pull was not answered with a page");
    *answer.add_pages() = reply->pull_reply();
    if (reply->pull_reply().last_page()) return {};
    plan.advance(reply->pull_reply());
  }
  return fail(ErrorCode::kTooLarge, "the answer would pass " + std::to_string(kMaxPages) +
                                        " pages: export a new bundle from the client (it will "
                                        "ask for the whole programme instead)");
}

// The answer with the server's certificate, signed by its key, written to `out`.
core::Status write_answer(const std::filesystem::path& data, const std::filesystem::path& out,
                          wire::BundleAnswer& answer) {
  auto certificate = net::server_certificate(data);
  if (!certificate) return fail(certificate.error());
  answer.set_certificate(*certificate);
  answer.set_answered_ms(static_cast<std::uint64_t>(core::system_clock().now_ms()));
  wire::BundleFile reply;
  reply.set_kind(static_cast<std::uint32_t>(wire::BundleKind::kAnswer));
  reply.set_body(answer.SerializeAsString());
  auto signature = net::sign_as_server(data, reply.body());
  if (!signature) return fail(signature.error());
  reply.set_signature(*signature);
  return wire::write_bundle(out, reply);
}

}  // namespace

core::Result<Applied> apply_bundle(const std::filesystem::path& data,
                                   const std::filesystem::path& in,
                                   const std::filesystem::path& out) {
  auto file = wire::read_bundle(in, wire::BundleKind::kRequest);
  if (!file) return fail(file.error());
  auto head = request_head(*file, in);
  if (!head) return fail(head.error());
  auto store = MasterStore::open(data);
  if (!store) return fail(store.error());
  const auto& info = store->info();
  if (!head->server_id.empty() && head->server_id != info.server_id)
    return fail(ErrorCode::kInvalidArgument, in.string() + " was made for server " +
                                                 head->server_id + "; this is server " +
                                                 info.server_id + ": carry it to its own server");
  RequestRouter router(*store);
  // The enrolment's key and the device's signature first: a forged file is never decoded.
  auto admitted = admit(router, *store, *file, *head);
  if (!admitted) return fail(admitted.error());
  wire::BundleRequest request;
  if (!request.ParseFromString(file->body()))
    return fail(ErrorCode::kCorrupt, in.string() + " is damaged (its request cannot be decoded)");

  Applied applied;
  applied.enrolment = admitted->record.device_id;
  wire::BundleAnswer answer;
  answer.set_request_digest(std::string(crypto::as_bytes(crypto::sha256(file->body()))));
  answer.set_client_device_id(head->hello.client_device_id());
  // A client that has not met this epoch numbers its changes past what the server now holds:
  // it learns of the restore from this answer and re-sends them in its next bundle.
  applied.pushes_skipped = request.epoch() != 0 && request.epoch() != info.epoch;
  if (!applied.pushes_skipped)
    ERGON_TRY(push_all(router, *store, *admitted, request, answer, applied));
  auto welcome = router.welcome(0, *admitted);
  if (!welcome) return fail(welcome.error());
  *answer.mutable_welcome() = welcome->welcome();

  wire::PullPlan plan;
  plan.cursor = request.pull().cursor();
  plan.own_after = request.pull().own_after();
  plan.bootstrap = request.pull().bootstrap() || applied.pushes_skipped ||
                   answer.welcome().log_head() < plan.cursor;
  applied.bootstrap = plan.bootstrap;
  ERGON_TRY(pull_all(router, *admitted, plan, answer));
  applied.pages = static_cast<std::size_t>(answer.pages_size());
  applied.head = answer.pages().rbegin()->head_seq();
  answer.set_bootstrap(applied.bootstrap);
  answer.set_pushes_skipped(applied.pushes_skipped);
  ERGON_TRY(write_answer(data, out, answer));
  return applied;
}

}  // namespace ergon::server::bundle

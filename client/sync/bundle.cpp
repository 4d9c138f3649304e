#include "client/sync/bundle.h"

#include "client/store/sync_state.h"
#include "client/sync/page_apply.h"
#include "shared/core/numbers.h"
#include "shared/crypto/crypto.h"
#include "shared/net/tls.h"
#include "shared/wire/bundle.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"

namespace ergon::client {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t kNonceBytes = 16;
constexpr std::size_t kBatchChanges = 500;

// The token's two halves: the enrolment id (travels) and the secret (never does).
core::Result<std::pair<std::string, std::string>> token_parts(LocalStore& store) {
  auto token = store.setting("token");
  auto dot = token.find('.');
  if (dot == std::string::npos)
    return fail(ErrorCode::kUsage,
                "this home has no device token: set it up with 'ergon init --token DEVICE.SECRET "
                "--fingerprint SHA256:…' (both from the administrator)");
  return std::pair(token.substr(0, dot), token.substr(dot + 1));
}

core::Result<wire::Hello> bundle_hello(LocalStore& store, const std::string& enrolment,
                                       const std::string& nonce) {
  wire::Hello h;
  h.set_min_version(wire::kProtocolVersion);
  h.set_max_version(wire::kProtocolVersion);
  h.set_token(enrolment);
  const auto& id = store.device().device_id.bytes();
  h.set_client_device_id(std::string(reinterpret_cast<const char*>(id.data()), id.size()));
  h.set_user(store.device().user);
  auto key = store.device_key();
  if (!key) return fail(key.error());
  h.set_public_key(key->public_key);
  h.set_proof(
      crypto::sign(*key, wire::hello_proof_payload(nonce, h.client_device_id(), enrolment)));
  return h;
}

core::Status add_pull(LocalStore& store, wire::BundleRequest& request) {
  SyncState sync(store);
  auto cursor = sync.cursor();
  if (!cursor) return fail(cursor.error());
  auto* pull = request.mutable_pull();
  pull->set_cursor(*cursor);
  pull->set_max_entries(1000);
  pull->set_bootstrap(*cursor == 0 || store.setting("bootstrap_pending") == "1");
  if (pull->bootstrap()) {
    auto own_after = first_unknown_outcome(store);
    if (!own_after) return fail(own_after.error());
    pull->set_own_after(*own_after);
  }
  return {};
}

// "EPOCH.HEAD" of an answer: later answers compare greater.
changelog::Revision answer_position(const wire::BundleAnswer& answer) {
  std::uint64_t head = answer.pages().empty() ? 0 : answer.pages().rbegin()->head_seq();
  return {answer.welcome().epoch(), head};
}

core::Result<wire::BundleAnswer> checked_answer(LocalStore& store,
                                                const std::filesystem::path& in) {
  auto file = wire::read_bundle(in, wire::BundleKind::kAnswer);
  if (!file) return fail(file.error());
  auto pinned = store.setting("fingerprint");
  if (pinned.empty())
    return fail(ErrorCode::kUsage,
                "this home has no pinned server key: 'ergon init --token … "
                "--fingerprint SHA256:…' (from 'ergond fingerprint')");
  // The pinned key's signature first, read from the certificate field alone: an answer nobody
  // signed is never decoded.
  auto fields = wire::top_level_fields(file->body(), {8});  // the certificate
  if (!fields) return fail(ErrorCode::kCorrupt, in.string() + ": " + fields.error().message);
  const auto& certificate = (*fields)[8];
  auto presented = net::certificate_fingerprint(certificate);
  if (!presented || *presented != pinned)
    return fail(ErrorCode::kCorrupt, in.string() +
                                         " was not made by this client's server (its "
                                         "key is not the pinned " +
                                         pinned + ")");
  if (!net::verify_by_certificate(certificate, file->body(), file->signature()))
    return fail(ErrorCode::kCorrupt,
                in.string() + " is damaged or altered: its server signature does not match");
  wire::BundleAnswer answer;
  if (!answer.ParseFromString(file->body()))
    return fail(ErrorCode::kCorrupt, in.string() + " is damaged (its answer cannot be decoded)");
  const auto& id = store.device().device_id.bytes();
  if (answer.client_device_id() != std::string(reinterpret_cast<const char*>(id.data()), id.size()))
    return fail(ErrorCode::kInvalidArgument,
                in.string() + " answers another device's bundle, not this home's (device " +
                    store.device().device_id.hex().substr(0, 8) + ")");
  if (answer.pages().empty() || !answer.pages().rbegin()->last_page())
    return fail(ErrorCode::kCorrupt, in.string() + " is damaged (its last page is missing)");
  return answer;
}

}  // namespace

core::Result<BundleExport> export_bundle(LocalStore& store, const std::filesystem::path& out) {
  auto token = token_parts(store);
  if (!token) return fail(token.error());
  wire::BundleRequest request;
  request.set_nonce(crypto::random_bytes(kNonceBytes));
  auto hello = bundle_hello(store, token->first, request.nonce());
  if (!hello) return fail(hello.error());
  *request.mutable_hello() = std::move(*hello);
  auto pending = SyncState(store).pending_changes(std::numeric_limits<std::size_t>::max());
  if (!pending) return fail(pending.error());
  for (std::size_t i = 0; i < pending->size(); i += kBatchChanges) {
    auto* push = request.add_pushes();
    for (std::size_t j = i; j < std::min(pending->size(), i + kBatchChanges); ++j)
      wire::to_proto((*pending)[j], push->add_changes());
  }
  ERGON_TRY(add_pull(store, request));
  request.set_server_id(store.setting("server_id"));
  auto epoch = store.setting("epoch");
  auto epoch_number = core::parse_number<std::uint64_t>(epoch.empty() ? "0" : epoch, "the epoch");
  if (!epoch_number) return fail(ErrorCode::kCorrupt, epoch_number.error().message);
  request.set_epoch(*epoch_number);
  request.set_created_ms(static_cast<std::uint64_t>(core::system_clock().now_ms()));

  wire::BundleFile file;
  file.set_kind(static_cast<std::uint32_t>(wire::BundleKind::kRequest));
  file.set_body(request.SerializeAsString());
  file.set_mac(
      crypto::hmac_sha256(crypto::as_bytes(crypto::bundle_key(token->second)), file.body()));
  auto key = store.device_key();
  if (!key) return fail(key.error());
  file.set_signature(crypto::sign(*key, file.body()));
  ERGON_TRY(wire::write_bundle(out, file));
  std::error_code ec;
  return BundleExport{pending->size(), request.pull().cursor(), request.pull().bootstrap(),
                      std::filesystem::file_size(out, ec)};
}

core::Result<BundleImport> import_answer(LocalStore& store, const std::filesystem::path& in,
                                         const SyncOptions& options) {
  auto answer = checked_answer(store, in);
  if (!answer) return fail(answer.error());
  BundleImport result;
  auto position = answer_position(*answer);
  // "EPOCH.HEAD" of the last answer imported: a conflict id's form, so its parser reads it.
  auto last = changelog::parse_conflict_id(store.setting("bundle_answer"));
  if (last && position <= *last) {
    result.is_unchanged = true;
    return result;
  }
  auto& report = result.report;
  auto welcomed = adopt_welcome(store, answer->welcome(), options, report);
  if (!welcomed) return fail(welcomed.error());
  result.needs_resend = report.requeued > 0;
  for (const auto& push : answer->pushes())
    for (const auto& o : push.outcomes()) {
      ++report.sent;
      if (o.duplicate()) ++report.duplicates;
      if (o.kind() == wire::OUTCOME_ACCEPTED) ++report.accepted;
      if (o.kind() == wire::OUTCOME_CONFLICT) ++report.conflicts;
      if (o.kind() == wire::OUTCOME_REJECTED) ++report.rejected;
    }
  Bootstrap boot;
  boot.is_active = answer->bootstrap();
  for (const auto& page : answer->pages()) ERGON_TRY(apply_page(store, page, boot, report));
  auto same = digest_matches(store, *answer->pages().rbegin(), report);
  if (!same) return fail(same.error());
  result.digest_differs = !*same;
  if (!*same) ERGON_TRY(store.set_setting("bootstrap_pending", "1"));
  ERGON_TRY(store.set_setting("epoch", std::to_string(answer->welcome().epoch())));
  ERGON_TRY(store.set_setting("bundle_answer", changelog::conflict_id_text(position)));
  auto reached = SyncState(store).cursor();
  if (!reached) return fail(reached.error());
  report.cursor = *reached;
  return result;
}

}  // namespace ergon::client

#pragma once
// RequestRouter: the request handler (Asio http/server's shape): a request Message in, a reply
// Message out, for everything a session answers: hello → admission, pings, pull pages, and
// pushes decoded into a job for the store writer. Knows no sockets and is unit-tested and
// fuzzed without them. Reads through the store it is given (the network thread's connection).
// Holds a reference to the store, which must outlive it. Not thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/changelog/change.h"
#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::server {

inline constexpr std::size_t kMaxBatchChanges = 1000;
inline constexpr std::size_t kMaxPageEntries = 1000;
/// A pull page stops adding to itself past this many bytes by default (a frame may hold
/// 16 MiB): half for the snapshot part and own entries, the rest for log entries.
inline constexpr std::size_t kMaxPageBytes = 4u << 20;

/// A device that said hello with a valid token and proved it holds its device key.
struct Admitted {
  DeviceRecord record;
  DeviceContext context;
  std::string public_key;
  bool needs_binding = false;  // the enrolment is not yet bound to this client id and key
  wire::Message welcome;       // what the session answers once the device is bound
};

/// A pushed batch, decoded and capped, for the store writer to apply.
struct PushJob {
  std::uint64_t request_id = 0;
  std::vector<changelog::Change> changes;
};

/// A request that writes to the master other than a push (a stage move): run on the store
/// writer, which answers with the reply or a refusal.
struct WriteJob {
  std::function<core::Result<wire::Message>(MasterStore&)> work;
};

/// What a request after the welcome becomes: a reply to send, or a write to run first.
using Routed = std::variant<wire::Message, PushJob, WriteJob>;

class RequestRouter {
 public:
  explicit RequestRouter(MasterStore& store, std::size_t max_page_bytes = kMaxPageBytes)
      : store_(store), max_page_bytes_(max_page_bytes) {}

  /// The enrolment id a token names (the part before the dot), for throttling and logs.
  static std::string enrolment_of(std::string_view token);

  /// Checks the protocol version range, the token and the proof of the device key, signed
  /// over `session_binding` (the TLS exporter; empty over --insecure). Refuses with a reason.
  core::Result<Admitted> admit(const wire::Hello& hello, std::string_view session_binding);
  /// The same for an offline bundle: the hello's token field names the enrolment only, `mac`
  /// (HMAC of `body` under the enrolment's bundle key) stands for the secret, and the proof
  /// signs the bundle's `nonce` as its session binding.
  core::Result<Admitted> admit_bundle(const wire::Hello& hello, std::string_view nonce,
                                      std::string_view body, std::string_view mac);
  /// The welcome for an admitted (and bound) device.
  core::Result<wire::Message> welcome(std::uint64_t request_id, const Admitted& admitted);
  /// A request after the welcome: ping, pull or push. kProtocol for anything else.
  core::Result<Routed> handle(const wire::Message& request, const Admitted& admitted);
  wire::Message push_reply(std::uint64_t request_id,
                           const std::vector<changelog::Outcome>& outcomes);

 private:
  core::Result<Admitted> admit_record(DeviceRecord record, const wire::Hello& hello,
                                      std::string_view session_binding);
  core::Result<PushJob> decode_push(std::uint64_t request_id, const wire::PushRequest& push);
  core::Result<wire::Message> pull(std::uint64_t request_id, const Admitted& admitted,
                                   const wire::PullRequest& pull);
  core::Result<wire::Message> history(std::uint64_t request_id, const Admitted& admitted,
                                      const wire::HistoryRequest& asked);
  core::Result<wire::Message> audit_verify(std::uint64_t request_id,
                                           const wire::AuditVerifyRequest& asked);
  // The programme's stages (programme_requests.cpp).
  core::Result<wire::Message> stages(std::uint64_t request_id, const wire::StagesRequest& asked);
  core::Result<WriteJob> stage_move(std::uint64_t request_id, const Admitted& admitted,
                                    const wire::StageMoveRequest& asked);
  core::Result<WriteJob> year_start(std::uint64_t request_id, const Admitted& admitted,
                                    const wire::YearStartRequest& asked);
  core::Result<wire::Message> programme(std::uint64_t request_id,
                                        const wire::ProgrammeRequest& asked);

  MasterStore& store_;
  std::size_t max_page_bytes_;
  // The last whole verification, reused while the log has not grown: a device asking again and
  // again costs a head check, not a pass over the whole log.
  std::optional<VerifyReport> verified_;
  std::chrono::steady_clock::time_point verified_at_;
  static constexpr std::chrono::seconds kReuseVerification{60};
};

}  // namespace ergon::server

#pragma once
// RequestRouter: a request Message in, a reply Message out, for everything a session answers
// on the network thread: hello → welcome, pull pages, push decoding and replies. Knows no
// sockets and is unit-tested without them. Reads through the store it is given (the network
// thread's connection); pushes are applied elsewhere (the writer thread).
// Holds a reference to the store, which must outlive it. Not thread-safe.

#include <cstdint>
#include <vector>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/changelog/change.h"
#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::server {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxBatchChanges = 1000;
inline constexpr std::size_t kMaxPageEntries = 1000;

/// A device that said hello with a valid token.
struct Admitted {
  DeviceRecord record;
  DeviceContext context;
  bool needs_binding = false;  // its first hello: bind the client's device id to the token
};

class RequestRouter {
 public:
  explicit RequestRouter(MasterStore& store) : store_(store) {}

  /// Checks the protocol version range and the token; refuses with a reason to send back.
  core::Result<Admitted> admit(const wire::Hello& hello);
  /// The welcome for an admitted (and bound) device.
  core::Result<wire::Message> welcome(std::uint64_t request_id, const Admitted& admitted);
  /// Decodes and caps a pushed batch.
  core::Result<std::vector<changelog::Change>> decode_push(const wire::PushRequest& push);
  wire::Message push_reply(std::uint64_t request_id,
                           const std::vector<changelog::Outcome>& outcomes);
  /// One page of the log (and a snapshot first when asked).
  core::Result<wire::Message> pull(std::uint64_t request_id, const Admitted& admitted,
                                   const wire::PullRequest& pull);

 private:
  MasterStore& store_;
};

}  // namespace ergon::server

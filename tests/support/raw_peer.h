#pragma once
// RawPeer: a hostile or hand-driven peer for tests, speaking bytes, not the client's protocol
// code: connect over plain TCP or TLS (no pinning), send any bytes, read one frame or see the
// connection close. Synchronous, with a read deadline, so a test can never hang on a server
// that stopped answering. Not thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::testing {

class RawPeer {
 public:
  /// Connects to 127.0.0.1:`port`; with `tls`, completes a TLS handshake first.
  static std::unique_ptr<RawPeer> connect(int port, bool tls);
  ~RawPeer();
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  /// Sends raw bytes; false when the connection is gone.
  bool send(const std::string& bytes);
  /// Sends `message` as one frame.
  bool send(const wire::Message& message);
  /// The next whole frame, parsed; nullopt when the peer closed, the deadline passed or the
  /// bytes were not a message.
  std::optional<wire::Message> read(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  /// The TLS session binding a hello's proof signs (empty over plain TCP).
  std::string session_binding();
  /// True when the server closed the connection (EOF) within the deadline.
  bool closed_by_server(std::chrono::milliseconds deadline = std::chrono::seconds(10));

  struct Impl;

 private:
  explicit RawPeer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A hello as a real client sends it: `token`, the client's 16-byte device id, its key, and
/// the proof of the key signed over `binding`.
wire::Message hello_message(const std::string& token, const std::string& client_device_id,
                            const crypto::SigningKey& key, const std::string& binding);

/// A change of no device yet (the peer's push numbers it); `base` nullopt: a creation
/// (BASE_NONE).
wire::Change change_of(wire::EntityKind kind, const std::string& key, const std::string& group,
                       const model::FieldValues& values, const std::optional<wire::Revision>& base);

/// A frame: 4 bytes of big-endian length, then `body`.
std::string frame_of(const std::string& body);

}  // namespace ergon::testing

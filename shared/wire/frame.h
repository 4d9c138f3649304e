#pragma once
// Frames: 4 bytes of big-endian length, then one serialized wire::Message. The decoder checks
// the length against the cap before it buffers a byte of the body, so a hostile length prefix
// (4 GiB) costs nothing. Messages above kCompressAbove are sent zstd-compressed inside a
// Compressed body, whose declared size is capped before decompressing. Pure; no sockets.
// FrameDecoder is not thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::wire {

/// The one protocol version client and server speak (hello carries a min..max range).
/// 2: a change's base revision is its horizon, the device's applied log position (#27).
inline constexpr std::uint32_t kProtocolVersion = 2;
inline constexpr std::size_t kMaxFrameBytes = 16u << 20;         // one frame on the wire
inline constexpr std::size_t kMaxDecompressedBytes = 64u << 20;  // one message unpacked
inline constexpr std::size_t kCompressAbove = 64u << 10;

/// The length prefix of a frame: kProtocol for 0, kTooLarge above `max_bytes`.
core::Result<std::uint32_t> check_frame_length(const unsigned char header[4],
                                               std::size_t max_bytes = kMaxFrameBytes);

/// One frame holding `message`, compressed when large.
std::string encode_frame(const Message& message);

/// Parses a frame body (without its length), unwrapping a Compressed body whose declared size
/// is at most `max_unpacked_bytes` (checked before anything is unpacked).
core::Result<Message> parse_message(std::string_view body,
                                    std::size_t max_unpacked_bytes = kMaxDecompressedBytes);
/// The same, asking `reserve_unpacked` for the declared size before it is allocated: false
/// refuses the message (kUnavailable: no memory for it now; the peer may retry).
core::Result<Message> parse_message(std::string_view body, std::size_t max_unpacked_bytes,
                                    const std::function<bool(std::size_t)>& reserve_unpacked);

/// Accumulates bytes from a stream and yields whole frame bodies.
class FrameDecoder {
 public:
  /// Appends bytes; fails (and stays failed) on a bad length prefix.
  core::Status feed(std::string_view bytes);
  /// The next complete frame body, if one is buffered.
  std::optional<std::string> next();

 private:
  std::string buffer_;
  std::deque<std::string> ready_;
  std::optional<core::Error> failed_;
};

}  // namespace ergon::wire

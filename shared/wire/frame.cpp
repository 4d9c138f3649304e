#include "shared/wire/frame.h"

#include <algorithm>

#include <zstd.h>

namespace ergon::wire {

using Code = core::ErrorCode;
using core::fail;

core::Result<std::uint32_t> check_frame_length(const unsigned char header[4],
                                               std::size_t max_bytes) {
  std::uint32_t length = (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
                         (std::uint32_t{header[2]} << 8) | std::uint32_t{header[3]};
  if (length == 0) return fail(Code::kProtocol, "an empty frame");
  if (length > max_bytes)
    return fail(Code::kTooLarge, "a frame of " + std::to_string(length) +
                                     " bytes is above the limit of " + std::to_string(max_bytes));
  return length;
}

namespace {

std::string with_length(const std::string& body) {
  auto n = static_cast<std::uint32_t>(body.size());
  std::string frame;
  frame.reserve(body.size() + 4);
  frame.push_back(static_cast<char>(n >> 24));
  frame.push_back(static_cast<char>((n >> 16) & 0xff));
  frame.push_back(static_cast<char>((n >> 8) & 0xff));
  frame.push_back(static_cast<char>(n & 0xff));
  return frame + body;
}

}  // namespace

std::string encode_frame(const Message& message) {
  std::string body = message.SerializeAsString();
  if (body.size() <= kCompressAbove) return with_length(body);
  std::string packed(ZSTD_compressBound(body.size()), '\0');
  auto n = ZSTD_compress(packed.data(), packed.size(), body.data(), body.size(), 3);
  if (ZSTD_isError(n)) return with_length(body);
  packed.resize(n);
  Message outer;
  outer.set_request_id(message.request_id());
  outer.mutable_compressed()->set_zstd(std::move(packed));
  outer.mutable_compressed()->set_size(body.size());
  return with_length(outer.SerializeAsString());
}

core::Result<Message> parse_message(std::string_view body, std::size_t max_unpacked_bytes) {
  return parse_message(body, max_unpacked_bytes, nullptr);
}

core::Result<Message> parse_message(std::string_view body, std::size_t max_unpacked_bytes,
                                    const std::function<bool(std::size_t)>& reserve_unpacked) {
  Message message;
  if (!message.ParseFromArray(body.data(), static_cast<int>(body.size())))
    return fail(Code::kProtocol, "a frame that is not a valid Ergon message");
  if (!message.has_compressed()) return message;
  const auto& c = message.compressed();
  auto cap = std::min<std::size_t>(max_unpacked_bytes, kMaxDecompressedBytes);
  if (c.size() == 0 || c.size() > cap)
    return fail(Code::kTooLarge, "a compressed message declares " + std::to_string(c.size()) +
                                     " bytes; the limit is " + std::to_string(cap));
  auto frame_size = ZSTD_getFrameContentSize(c.zstd().data(), c.zstd().size());
  if (frame_size != c.size())
    return fail(Code::kProtocol, "a compressed message whose size does not match its header");
  if (reserve_unpacked && !reserve_unpacked(c.size()))
    return fail(Code::kUnavailable,
                "the server is short of memory for messages in flight; retry shortly");
  std::string unpacked(c.size(), '\0');
  auto n = ZSTD_decompress(unpacked.data(), unpacked.size(), c.zstd().data(), c.zstd().size());
  if (ZSTD_isError(n) || n != c.size())
    return fail(Code::kProtocol, "a compressed message that does not decompress");
  Message inner;
  if (!inner.ParseFromString(unpacked) || inner.has_compressed())
    return fail(Code::kProtocol, "a compressed body that is not a plain Ergon message");
  return inner;
}

core::Status FrameDecoder::feed(std::string_view bytes) {
  if (failed_) return fail(*failed_);
  buffer_.append(bytes);
  for (;;) {
    if (buffer_.size() < 4) return {};
    auto length = check_frame_length(reinterpret_cast<const unsigned char*>(buffer_.data()));
    if (!length) {
      failed_ = length.error();
      buffer_.clear();
      return fail(length.error());
    }
    if (buffer_.size() < 4 + std::size_t{*length}) return {};
    ready_.push_back(buffer_.substr(4, *length));
    buffer_.erase(0, 4 + std::size_t{*length});
  }
}

std::optional<std::string> FrameDecoder::next() {
  if (ready_.empty()) return std::nullopt;
  auto body = std::move(ready_.front());
  ready_.pop_front();
  return body;
}

}  // namespace ergon::wire

// libFuzzer target: arbitrary bytes from a peer through the frame decoder, the message parser
// (with its zstd unwrapping) and the model conversions, and as an offline bundle file (what a
// USB stick brings: either kind, and the request or answer inside). Nothing here may crash, hang or
// read out of bounds; every failure must be an Error value.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shared/wire/bundle.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ergon;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  wire::FrameDecoder decoder;
  // Feed in uneven chunks, as a socket would deliver them.
  for (std::size_t at = 0; at < bytes.size();) {
    std::size_t n = 1 + (bytes[at] & 0x1f);
    if (!decoder.feed(bytes.substr(at, n))) break;
    at += n;
  }
  // Also treat the whole input as one frame body.
  auto direct = wire::parse_message(bytes);
  auto inspect = [](const wire::Message& m) {
    if (m.has_push())
      for (const auto& c : m.push().changes()) (void)wire::from_proto(c);
    if (m.has_pull_reply()) {
      if (m.pull_reply().has_snapshot()) (void)wire::from_proto(m.pull_reply().snapshot());
      for (const auto& e : m.pull_reply().entries()) (void)wire::from_proto(e);
    }
    if (m.has_push_reply())
      for (const auto& o : m.push_reply().outcomes()) (void)wire::from_proto(o);
  };
  if (direct) inspect(*direct);
  while (auto body = decoder.next()) {
    auto message = wire::parse_message(*body);
    if (message) inspect(*message);
  }
  for (auto kind : {wire::BundleKind::kRequest, wire::BundleKind::kAnswer}) {
    auto file = wire::decode_bundle(bytes, kind, "fuzz");
    if (!file) continue;
    wire::BundleRequest request;
    if (kind == wire::BundleKind::kRequest && request.ParseFromString(file->body()))
      for (const auto& push : request.pushes())
        for (const auto& c : push.changes()) (void)wire::from_proto(c);
    wire::BundleAnswer answer;
    if (kind == wire::BundleKind::kAnswer && answer.ParseFromString(file->body()))
      for (const auto& page : answer.pages())
        for (const auto& e : page.entries()) (void)wire::from_proto(e);
  }
  return 0;
}

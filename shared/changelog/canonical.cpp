#include "shared/changelog/canonical.h"

namespace ergon::changelog {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::string_view kMagic = "ERGC";

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void u64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void bytes(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return v;
  }
  std::string_view raw(std::size_t n) {
    if (!need(n)) return {};
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string bytes() { return std::string(raw(u32())); }

 private:
  bool need(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::string canonical_bytes(const Change& c) {
  Writer w;
  w.raw(kMagic);
  w.u8(kCanonicalVersion);
  const auto& device = c.device_id.bytes();
  w.raw(std::string_view(reinterpret_cast<const char*>(device.data()), device.size()));
  w.u64(c.device_seq);
  w.u8(static_cast<std::uint8_t>(c.entity.kind));
  w.bytes(c.entity.key);
  w.bytes(c.group);
  w.u32(static_cast<std::uint32_t>(c.values.size()));
  for (const auto& [name, value] : c.values) {
    w.bytes(name);
    w.bytes(value);
  }
  w.u8(static_cast<std::uint8_t>(c.base.kind));
  w.u64(c.base.revision.epoch);
  w.u64(c.base.revision.seq);
  w.u64(c.base.own_seq);
  w.u64(static_cast<std::uint64_t>(c.client_time.wall_ms));
  w.u32(c.client_time.logical);
  w.bytes(c.user);
  return w.take();
}

core::Result<Change> parse_canonical(std::string_view bytes) {
  Reader r(bytes);
  if (r.raw(kMagic.size()) != kMagic || r.u8() != kCanonicalVersion)
    return fail(ErrorCode::kCorrupt, "not a canonical change record (bad magic or version)");
  Change c;
  std::array<std::uint8_t, 16> device{};
  auto raw_device = r.raw(16);
  std::copy(raw_device.begin(), raw_device.end(), device.begin());
  c.device_id = core::DeviceId(device);
  c.device_seq = r.u64();
  auto kind = r.u8();
  if (kind > 4) return fail(ErrorCode::kCorrupt, "canonical change: unknown entity kind");
  c.entity.kind = static_cast<EntityKind>(kind);
  c.entity.key = r.bytes();
  c.group = r.bytes();
  auto count = r.u32();
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
    auto name = r.bytes();
    // canonical_bytes writes names strictly ascending; anything else was not made by it.
    if (!c.values.empty() && !(c.values.rbegin()->first < name))
      return fail(ErrorCode::kCorrupt, "canonical change: field names repeated or out of order");
    c.values.emplace(std::move(name), r.bytes());
  }
  auto base_kind = r.u8();
  if (base_kind > 2) return fail(ErrorCode::kCorrupt, "canonical change: unknown base kind");
  c.base.kind = static_cast<Base::Kind>(base_kind);
  c.base.revision.epoch = r.u64();
  c.base.revision.seq = r.u64();
  c.base.own_seq = r.u64();
  c.client_time.wall_ms = static_cast<std::int64_t>(r.u64());
  c.client_time.logical = r.u32();
  c.user = r.bytes();
  if (!r.ok() || !r.at_end())
    return fail(ErrorCode::kCorrupt, "canonical change: truncated or trailing bytes");
  return c;
}

}  // namespace ergon::changelog

#include "shared/changelog/field_value_io.h"

#include <cstdint>

namespace ergon::changelog {
namespace {

// The layout of cereal's portable binary archive of `StoredValues` (a struct holding the map,
// class version 1), which the outbox and the log have always stored: an endianness flag (1:
// little-endian), the class version (u32), the entry count (u64), then each key and value as a
// length (u64) and its bytes. Read and written here directly: building a cereal archive and its
// streams for each value cost three times the work itself (bench/RESULTS.md, session 9).
// tests/shared/canonical_test.cpp checks these bytes against cereal's own archive.
constexpr std::uint32_t kClassVersion = 1;

void put_u64(std::string& out, std::uint64_t v) {
  char bytes[8];
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(bytes, 8);
}

void put_text(std::string& out, std::string_view text) {
  put_u64(out, text.size());
  out.append(text);
}

// Reads the archive front to back, checking every length against the bytes left, so a damaged
// length is an error and never an allocation.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool read_header(std::uint32_t& version) {
    if (bytes_.empty() || static_cast<unsigned char>(bytes_[0]) > 1) return false;
    little_ = bytes_[0] == 1;
    at_ = 1;
    std::uint64_t v = 0;
    if (!read_uint(4, v)) return false;
    version = static_cast<std::uint32_t>(v);
    return true;
  }
  bool read_u64(std::uint64_t& v) { return read_uint(8, v); }
  bool read_text(std::string& out) {
    std::uint64_t length = 0;
    if (!read_u64(length) || length > bytes_.size() - at_) return false;
    out.assign(bytes_.substr(at_, static_cast<std::size_t>(length)));
    at_ += static_cast<std::size_t>(length);
    return true;
  }
  std::size_t left() const { return bytes_.size() - at_; }

 private:
  bool read_uint(std::size_t width, std::uint64_t& v) {
    if (bytes_.size() - at_ < width) return false;
    v = 0;
    for (std::size_t i = 0; i < width; ++i) {
      auto byte = static_cast<std::uint8_t>(bytes_[at_ + (little_ ? width - 1 - i : i)]);
      v = (v << 8) | byte;
    }
    at_ += width;
    return true;
  }

  std::string_view bytes_;
  std::size_t at_ = 0;
  bool little_ = true;
};

core::Error unreadable(const std::string& why) {
  return core::Error{core::ErrorCode::kCorrupt, "stored field values cannot be read: " + why};
}

}  // namespace

std::string encode_values(const model::FieldValues& values) {
  std::string out;
  std::size_t size = 1 + 4 + 8;
  for (const auto& [key, value] : values) size += 16 + key.size() + value.size();
  out.reserve(size);
  out.push_back('\x01');
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((kClassVersion >> (8 * i)) & 0xFF));
  put_u64(out, values.size());
  for (const auto& [key, value] : values) {
    put_text(out, key);
    put_text(out, value);
  }
  return out;
}

core::Result<model::FieldValues> decode_values(std::string_view bytes) {
  Reader in(bytes);
  std::uint32_t version = 0;
  std::uint64_t count = 0;
  if (!in.read_header(version) || !in.read_u64(count))
    return core::fail(unreadable("a length does not fit the bytes"));
  if (version != kClassVersion)
    return core::fail(unreadable("version " + std::to_string(version) + ", this build reads " +
                                 std::to_string(kClassVersion)));
  // Each entry takes at least its two lengths.
  if (count > in.left() / 16) return core::fail(unreadable("a length does not fit the bytes"));
  model::FieldValues values;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string key, value;
    if (!in.read_text(key) || !in.read_text(value))
      return core::fail(unreadable("a length does not fit the bytes"));
    values.emplace_hint(values.end(), std::move(key), std::move(value));
  }
  if (in.left() != 0)
    return core::fail(core::ErrorCode::kCorrupt, "stored field values have trailing bytes");
  return values;
}

}  // namespace ergon::changelog

#include "shared/changelog/field_value_io.h"

#include <sstream>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>

namespace ergon::changelog {
namespace {

// The archived shape. Bump the class version when it changes, and keep reading the old one.
struct StoredValues {
  model::FieldValues values;

  template <class Archive>
  void serialize(Archive& archive, std::uint32_t const /*version*/) {
    archive(values);
  }
};

// Walks the archive's layout (endianness flag, class version, entry count, then length-prefixed
// keys and values) and checks every length against the bytes left, so a damaged length never
// reaches cereal, which would try to allocate it.
bool has_plausible_layout(std::string_view bytes) {
  if (bytes.size() < 13) return false;
  bool little = bytes[0] == 1;
  std::size_t at = 5;
  auto read_u64 = [&](std::uint64_t& out) {
    if (bytes.size() - at < 8) return false;
    out = 0;
    for (int i = 0; i < 8; ++i) {
      auto byte =
          static_cast<std::uint8_t>(bytes[at + static_cast<std::size_t>(little ? 7 - i : i)]);
      out = (out << 8) | byte;
    }
    at += 8;
    return true;
  };
  std::uint64_t count = 0;
  if (!read_u64(count) || count > (bytes.size() - at) / 16) return false;
  for (std::uint64_t i = 0; i < 2 * count; ++i) {
    std::uint64_t length = 0;
    if (!read_u64(length) || length > bytes.size() - at) return false;
    at += static_cast<std::size_t>(length);
  }
  return true;
}

}  // namespace
}  // namespace ergon::changelog

CEREAL_CLASS_VERSION(ergon::changelog::StoredValues, 1)

namespace ergon::changelog {

std::string encode_values(const model::FieldValues& values) {
  std::ostringstream out(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive archive(out);
    archive(StoredValues{values});
  }
  return out.str();
}

core::Result<model::FieldValues> decode_values(std::string_view bytes) {
  if (!has_plausible_layout(bytes))
    return core::fail(core::ErrorCode::kCorrupt,
                      "stored field values cannot be read: a length does not fit the bytes");
  try {
    std::istringstream in(std::string(bytes), std::ios::binary);
    cereal::PortableBinaryInputArchive archive(in);
    StoredValues stored;
    archive(stored);
    if (in.peek() != std::char_traits<char>::eof())
      return core::fail(core::ErrorCode::kCorrupt, "stored field values have trailing bytes");
    return stored.values;
  } catch (const std::exception& e) {
    // cereal reports truncation by throwing; it stays inside this function.
    return core::fail(core::ErrorCode::kCorrupt,
                      std::string("stored field values cannot be read: ") + e.what());
  }
}

}  // namespace ergon::changelog

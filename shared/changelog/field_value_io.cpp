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

#pragma once
// Strong ids. Proposal and device ids are random 128-bit values created offline without
// coordination, printed as 32 lower-case hex digits. Value types; thread-compatible.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::core {

/// 128 random bits. Tag makes ids of different things distinct types.
template <class Tag>
class Id128 {
 public:
  Id128() = default;
  explicit Id128(std::array<std::uint8_t, 16> bytes) : bytes_(bytes) {}

  /// A new id from the operating system's random source.
  static Id128 random();
  /// Parses exactly 32 hex digits (either case).
  static Result<Id128> parse(std::string_view text);

  std::string hex() const;
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  bool is_nil() const { return bytes_ == std::array<std::uint8_t, 16>{}; }

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const Id128&, const Id128&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

struct ProposalTag {};
struct DeviceTag {};
using ProposalId = Id128<ProposalTag>;
using DeviceId = Id128<DeviceTag>;

/// Fills `out` with random bytes from getrandom(2); aborts if the kernel refuses.
void fill_random(std::uint8_t* out, std::size_t size);
std::string to_hex(const std::uint8_t* data, std::size_t size);
Result<std::array<std::uint8_t, 16>> parse_hex16(std::string_view text);
/// True if `text` is 1..32 hex digits: the form of an id or an id prefix.
bool is_hex_prefix(std::string_view text);

template <class Tag>
Id128<Tag> Id128<Tag>::random() {
  std::array<std::uint8_t, 16> bytes{};
  fill_random(bytes.data(), bytes.size());
  return Id128(bytes);
}

template <class Tag>
Result<Id128<Tag>> Id128<Tag>::parse(std::string_view text) {
  auto bytes = parse_hex16(text);
  if (!bytes) return tl::unexpected(bytes.error());
  return Id128(*bytes);
}

template <class Tag>
std::string Id128<Tag>::hex() const {
  return to_hex(bytes_.data(), bytes_.size());
}

}  // namespace ergon::core

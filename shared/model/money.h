#pragma once
// Money: an amount in integer euro cents, never floating point. Parses the Greek and the plain
// text forms of domain/README.md and prints the Greek one. Value type; thread-compatible.
// Negative amounts and amounts beyond int64 cents are errors, not wraps.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::model {

class Money {
 public:
  constexpr Money() = default;
  static constexpr Money from_cents(std::int64_t cents) { return Money(cents); }

  /// Parses `1.234.567,89`, `1234567.89`, `1.500` (fifteen hundred), `12.5` (12.50), `0,01`;
  /// a trailing `€` is allowed. `,` is always the decimal mark; `.` separates thousands
  /// unless it is the only separator and is followed by one or two final digits.
  static core::Result<Money> parse(std::string_view text);

  constexpr std::int64_t cents() const { return cents_; }
  /// `1.234.567,89`
  std::string greek() const;
  /// `1.234.567,89 €`
  std::string greek_euro() const;
  /// `1234567.89`: the canonical form in change records and the log.
  std::string plain() const;

  /// Sum, or an error when it would overflow.
  core::Result<Money> plus(Money other) const;
  Money minus(Money other) const { return Money(cents_ - other.cents_); }

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend constexpr auto operator<=>(const Money&, const Money&) = default;

 private:
  constexpr explicit Money(std::int64_t cents) : cents_(cents) {}
  std::int64_t cents_ = 0;
};

}  // namespace ergon::model

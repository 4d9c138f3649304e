#pragma once
// KaCode: a budget line code (Κ.Α.) `SS-EEEE.NNN`: service, expense class, serial. Parsing
// accepts `-` or `.` after the service and 1-5 serial digits; the canonical form uses `-` and
// pads the serial (without leading zeros) to at least three digits. Value type.

#include <compare>
#include <string>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::model {

enum class Category;

class KaCode {
 public:
  /// `30.7323.1` and `30-7323.0001` both give `30-7323.001`.
  static core::Result<KaCode> parse(std::string_view text);

  /// `30-7323.001`
  const std::string& canonical() const { return canonical_; }
  /// The four-digit expense class, e.g. `7323`.
  std::string_view expense_class() const { return std::string_view(canonical_).substr(3, 4); }

  friend auto operator<=>(const KaCode&, const KaCode&) = default;

 private:
  explicit KaCode(std::string canonical) : canonical_(std::move(canonical)) {}
  std::string canonical_;
};

/// Class 73xx is a work and 74xx a study, and the other way round; supplies and services use
/// neither. Fails with a message naming the code, the category and what would fit.
core::Status check_ka_category(const KaCode& code, Category category);

}  // namespace ergon::model

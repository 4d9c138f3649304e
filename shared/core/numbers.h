#pragma once
// Parsing decimal numbers from text without exceptions: a stored setting, a flag, a column.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "shared/core/result.h"

namespace ergon::core {

/// The whole of `text` as a decimal integer of type T; kInvalidArgument naming `what` when it
/// is empty, has other characters, or does not fit T.
template <class T>
[[nodiscard]] Result<T> parse_number(std::string_view text, std::string_view what) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end)
    return fail(ErrorCode::kInvalidArgument, std::string(what) + ": '" +
                                                 std::string(text.substr(0, 40)) +
                                                 "' is not a whole number in range");
  return value;
}

}  // namespace ergon::core

#pragma once
// Greek text: normalisation on the way in and folding for search (utf8proc). Pure functions;
// thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::model {

/// Removes ASCII spaces, tabs and line breaks at both ends.
std::string_view trim(std::string_view text);

/// True when `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

/// Number of Unicode code points (characters) in valid UTF-8.
std::size_t count_characters(std::string_view text);

/// The stored form of free text: Unicode NFC, zero-width characters and soft hyphens dropped,
/// every run of whitespace (including tabs, line breaks, no-break spaces) one space, trimmed.
/// Fails on invalid UTF-8 and on other control characters, naming the position.
core::Result<std::string> normalise_text(std::string_view text);

/// The search key of a text: normalised, case-folded, accents (tonos, dialytika) stripped, so
/// "ΠΛΑΤΕΙΑΣ" and "πλατείας" fold alike. Invalid UTF-8 folds to the empty string.
std::string fold_for_search(std::string_view text);

}  // namespace ergon::model

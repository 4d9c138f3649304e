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

/// Refuses a word (a run of letters) that mixes Greek and Latin letters, as a Latin `M` typed
/// into `Mελέτη` or an `o` in `Boυτών`: they look alike but never match in search. The error
/// quotes the word and the positions (characters of `text`, from 1) of its Latin letters.
core::Status check_one_script_per_word(std::string_view text);

/// The Latin capital a single Greek letter looks like (`Α` → `A`, `Β` → `B`, `Κ` → `K`), so a
/// one-letter code typed on a Greek keyboard is read as meant; any other text unchanged.
std::string latin_look_alike(std::string_view text);

}  // namespace ergon::model

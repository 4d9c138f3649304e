#include "shared/model/text.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <utf8proc.h>

namespace ergon::model {
namespace {

using core::ErrorCode;
using core::fail;

bool is_zero_width(utf8proc_int32_t cp) {
  return cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x200E || cp == 0x200F ||
         cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD;
}

bool is_space(utf8proc_int32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' ||
         cp == 0x0085 || cp == 0x00A0 || cp == 0x2007 || cp == 0x202F ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_ZL ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_ZP;
}

bool is_control(utf8proc_int32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp < 0xA0); }

// The embeddings, overrides and isolates that make text display in another order than it is
// stored ("Trojan Source"): a title could read one figure and hold another.
bool is_bidi_control(utf8proc_int32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Runs utf8proc_map and takes ownership of its malloc'd result.
core::Result<std::string> map(std::string_view text, int options) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                        static_cast<utf8proc_ssize_t>(text.size()), &out,
                        static_cast<utf8proc_option_t>(options));
  if (n < 0) return fail(ErrorCode::kInvalidArgument, "the text is not valid UTF-8");
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

void append_utf8(std::string& out, utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
}

// Whether `text` is already in stored form and made only of characters NFC leaves as they are:
// printable ASCII and the Greek block's letters (U+0386, U+0388-U+03CE), single spaces between
// words. Most stored text is, and checking costs far less than utf8proc's decompose and
// compose; anything else takes the full path. text_test checks every character of the set
// against the full path.
bool is_plain_stored_form(std::string_view text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  char previous = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x21 && c <= 0x7E) {
      previous = static_cast<char>(c);
      continue;
    }
    if (c == ' ') {
      if (previous == ' ') return false;
      previous = ' ';
      continue;
    }
    // Two-byte Greek: U+0386 is CE 86; U+0388-U+03BF are CE 88-CE BF; U+03C0-U+03CE are CF 80-8E.
    if (i + 1 >= text.size()) return false;
    auto next = static_cast<unsigned char>(text[i + 1]);
    bool greek = (c == 0xCE && (next == 0x86 || (next >= 0x88 && next <= 0xBF))) ||
                 (c == 0xCF && next >= 0x80 && next <= 0x8E);
    if (!greek) return false;
    previous = 'g';
    ++i;
  }
  return true;
}

}  // namespace

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

bool is_valid_utf8(std::string_view text) {
  auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0 || cp < 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

std::size_t count_characters(std::string_view text) {
  std::size_t count = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  return count;
}

core::Result<std::string> normalise_text(std::string_view text) {
  if (is_plain_stored_form(text)) return std::string(text);
  if (!is_valid_utf8(text))
    return fail(ErrorCode::kInvalidArgument, "the text is not valid UTF-8; save the file as UTF-8");
  auto nfc = map(text, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (!nfc) return nfc;

  std::string out;
  out.reserve(nfc->size());
  bool pending_space = false;
  std::size_t position = 0;
  auto* p = reinterpret_cast<const utf8proc_uint8_t*>(nfc->data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(nfc->size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, left, &cp);
    p += n;
    left -= n;
    ++position;
    if (is_zero_width(cp)) continue;
    if (is_space(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (is_control(cp) || is_bidi_control(cp)) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
      return fail(ErrorCode::kInvalidArgument,
                  std::string(is_control(cp) ? "the text has a control character ("
                                             : "the text has a bidirectional control character (") +
                      hex + ") at character " + std::to_string(position) +
                      (is_control(cp) ? "; remove it"
                                      : ", which shows text in another order than it is "
                                        "stored; remove it"));
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    append_utf8(out, cp);
  }
  return out;
}

namespace {

constexpr int kSearchFoldFlags =
    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK;

// The search fold of each character text in plain stored form can hold (ASCII, then U+0380 to
// U+03CF at 128 on), computed once by utf8proc itself; nullopt where utf8proc refuses the
// character. Folding such text character by character gives what folding it whole does (no
// character of the set combines with another: text_test checks every pair).
using FoldTable = std::array<std::optional<std::string>, 128 + 0x50>;

const FoldTable& plain_fold_table() {
  static const FoldTable table = [] {
    FoldTable t;
    for (utf8proc_int32_t cp = 0; cp < 128; ++cp)
      if (auto folded = map(std::string(1, static_cast<char>(cp)), kSearchFoldFlags))
        t[static_cast<std::size_t>(cp)] = *folded;
    for (utf8proc_int32_t cp = 0x380; cp < 0x3D0; ++cp) {
      std::string one;
      append_utf8(one, cp);
      if (auto folded = map(one, kSearchFoldFlags))
        t[128 + static_cast<std::size_t>(cp - 0x380)] = *folded;
    }
    return t;
  }();
  return table;
}

// Folds text already in plain stored form from the table; nullopt sends it the full way.
std::optional<std::string> fold_plain(std::string_view text) {
  const auto& table = plain_fold_table();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t at = c;
    if (c >= 0x80) {  // a two-byte Greek letter (is_plain_stored_form checked it)
      auto cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3Fu);
      at = 128 + (cp - 0x380);
    }
    if (!table[at]) return std::nullopt;
    out += *table[at];
  }
  return out;
}

}  // namespace

std::string fold_for_search(std::string_view text) {
  if (is_plain_stored_form(text))
    if (auto folded = fold_plain(text)) return *folded;
  auto normal = normalise_text(text);
  if (!normal) return {};
  auto folded = map(*normal, kSearchFoldFlags);
  return folded ? *folded : std::string{};
}

namespace {

enum class Script { kOther, kGreek, kLatin };

Script script_of(utf8proc_int32_t cp) {
  auto category = utf8proc_category(cp);
  bool is_letter = category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO;
  if (!is_letter) return Script::kOther;
  if ((cp >= 0x0370 && cp <= 0x03FF) || (cp >= 0x1F00 && cp <= 0x1FFF)) return Script::kGreek;
  if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0x00C0 && cp <= 0x024F))
    return Script::kLatin;
  return Script::kOther;
}

struct Letter {
  std::size_t position;  // in the text, from 1
  utf8proc_int32_t cp;
  Script script;
};

std::optional<std::string> mixed_word_error(const std::vector<Letter>& word) {
  bool greek = false, latin = false;
  for (const auto& l : word) {
    greek |= l.script == Script::kGreek;
    latin |= l.script == Script::kLatin;
  }
  if (!greek || !latin) return std::nullopt;
  std::string text, positions;
  for (const auto& l : word) {
    append_utf8(text, l.cp);
    if (l.script != Script::kLatin) continue;
    std::string letter;
    append_utf8(letter, l.cp);
    positions += (positions.empty() ? "" : ", ") + std::string("'") + letter + "' at character " +
                 std::to_string(l.position);
  }
  return "the word '" + text + "' mixes Greek and Latin letters (Latin " + positions +
         "); retype it in one alphabet";
}

}  // namespace

core::Status check_one_script_per_word(std::string_view text) {
  std::vector<Letter> word;
  std::string errors;
  auto end_word = [&] {
    if (auto error = mixed_word_error(word)) errors += (errors.empty() ? "" : "; ") + *error;
    word.clear();
  };
  std::size_t position = 0;
  auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) break;  // invalid UTF-8 is normalise_text's error
    p += n;
    left -= n;
    ++position;
    auto script = script_of(cp);
    bool is_mark = utf8proc_category(cp) == UTF8PROC_CATEGORY_MN;
    if (script != Script::kOther || is_mark) {
      word.push_back({position, cp, script});
      continue;
    }
    end_word();
  }
  end_word();
  if (!errors.empty()) return fail(ErrorCode::kInvalidArgument, errors);
  return {};
}

// Greek capitals and small letters that print like a Latin capital.
constexpr std::pair<std::string_view, char> kLatinAlike[] = {
    {"Α", 'A'}, {"α", 'A'}, {"Β", 'B'}, {"β", 'B'}, {"Ε", 'E'}, {"ε", 'E'}, {"Ζ", 'Z'}, {"Η", 'H'},
    {"Ι", 'I'}, {"Κ", 'K'}, {"κ", 'K'}, {"Μ", 'M'}, {"Ν", 'N'}, {"Ο", 'O'}, {"ο", 'O'}, {"Ρ", 'P'},
    {"ρ", 'P'}, {"Τ", 'T'}, {"τ", 'T'}, {"Υ", 'Y'}, {"Χ", 'X'}, {"χ", 'X'}};

std::string latin_look_alike(std::string_view text) {
  for (const auto& [greek, latin] : kLatinAlike)
    if (text == greek) return std::string(1, latin);
  return std::string(text);
}

}  // namespace ergon::model

#include "shared/model/text.h"

#include <cstdlib>
#include <memory>

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
    if (is_control(cp)) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
      return fail(ErrorCode::kInvalidArgument, "the text has a control character (" +
                                                   std::string(hex) + ") at character " +
                                                   std::to_string(position) + "; remove it");
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    append_utf8(out, cp);
  }
  return out;
}

std::string fold_for_search(std::string_view text) {
  auto normal = normalise_text(text);
  if (!normal) return {};
  auto folded =
      map(*normal, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
  return folded ? *folded : std::string{};
}

}  // namespace ergon::model

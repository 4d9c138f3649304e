// Writing a revision object by hand: it runs a dozen times per proposal of a first sync, and
// its strings (group names, hex device ids, login names) rarely need escaping.

#include "client/store/revision_object.h"

#include <array>
#include <charconv>
#include <utility>

namespace ergon::client {
namespace {

template <class Number>
void append_number(std::string& out, Number n) {
  std::array<char, 24> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  out.append(digits.data(), end);
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;  // UTF-8 goes in as it is: JSON text is UTF-8
    }
  }
  out += '"';
}

}  // namespace

void RevisionObject::add(std::string_view group, const changelog::GroupRevision& revision,
                         std::string_view user, std::int64_t at_ms) {
  text_ += text_.empty() ? '{' : ',';
  append_string(text_, group);
  text_ += ":[";
  append_number(text_, revision.revision.epoch);
  text_ += ',';
  append_number(text_, revision.revision.seq);
  text_ += ',';
  append_string(text_, revision.device_id.hex());
  text_ += ',';
  append_string(text_, user);
  text_ += ',';
  append_number(text_, at_ms);
  text_ += ']';
}

std::string RevisionObject::take() {
  if (text_.empty()) return "{}";
  text_ += '}';
  return std::exchange(text_, {});
}

}  // namespace ergon::client

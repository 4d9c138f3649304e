#include "shared/core/ids.h"

#include <cerrno>
#include <cstdlib>

#include <sys/random.h>

namespace ergon::core {

void fill_random(std::uint8_t* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = getrandom(out + done, size - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no randomness means ids could collide: never continue
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool is_hex_prefix(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text)
    if (hex_value(c) < 0) return false;
  return true;
}

Result<std::array<std::uint8_t, 16>> parse_hex16(std::string_view text) {
  if (text.size() != 32 || !is_hex_prefix(text))
    return fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text) + "' is not an id: an id is 32 hexadecimal digits");
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < 16; ++i)
    bytes[i] = static_cast<std::uint8_t>(hex_value(text[2 * i]) * 16 + hex_value(text[2 * i + 1]));
  return bytes;
}

}  // namespace ergon::core

#pragma once
// Hashes and secrets (OpenSSL): SHA-256, random tokens, constant-time comparison. Pure;
// thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ergon::crypto {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::string_view bytes);
/// SHA-256 over the concatenation of the parts, without copying them together.
Digest sha256(std::initializer_list<std::string_view> parts);
std::string to_hex(const Digest& digest);
std::string_view as_bytes(const Digest& digest);

/// `bytes` random bytes from OpenSSL's CSPRNG, as lower-case hex.
std::string random_hex(std::size_t bytes);

/// Compares in time that depends only on the lengths, for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace ergon::crypto

#pragma once
// Hashes and secrets (OpenSSL): SHA-256, random tokens, constant-time comparison, and the
// Ed25519 signatures with which a client proves it holds its device key. Pure; thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ergon::crypto {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::string_view bytes);
/// SHA-256 over the concatenation of the parts, without copying them together.
Digest sha256(std::initializer_list<std::string_view> parts);
std::string to_hex(const Digest& digest);
/// The digest `to_hex` wrote; none unless `hex` is exactly 64 hex digits.
std::optional<Digest> digest_from_hex(std::string_view hex);
std::string_view as_bytes(const Digest& digest);

/// `bytes` random bytes from OpenSSL's CSPRNG.
std::string random_bytes(std::size_t bytes);
/// The same, as lower-case hex.
std::string random_hex(std::size_t bytes);

/// Compares in time that depends only on the lengths, for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

/// HMAC-SHA256 of `message` under `key` (32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view message);
/// The key that authenticates a device's offline bundles: derived from its token's secret, so
/// the server (which keeps it from enrolment) can check a bundle the secret never travels with.
Digest bundle_key(std::string_view token_secret);

/// An Ed25519 key pair, raw bytes: 32 of private key, 32 of public key.
struct SigningKey {
  std::string private_key;
  std::string public_key;
};

/// A new key pair from OpenSSL's CSPRNG.
SigningKey generate_signing_key();
/// The key pair of 32 raw private-key bytes; nullopt when they are not a key.
std::optional<SigningKey> signing_key_from_private(std::string_view private_key);
/// The Ed25519 signature (64 bytes) of `message`.
std::string sign(const SigningKey& key, std::string_view message);
/// True when `signature` is `public_key`'s Ed25519 signature of `message`; false for any
/// malformed input (a wrong length, a key that is not a point).
bool verify_signature(std::string_view public_key, std::string_view message,
                      std::string_view signature);

}  // namespace ergon::crypto

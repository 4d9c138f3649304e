#include "shared/crypto/crypto.h"

#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "shared/core/ids.h"

namespace ergon::crypto {

namespace {

// SHA-256 fetched once and one context per thread, reset for each digest: fetching the
// algorithm and allocating a context per call cost more than hashing a field value (bench/
// RESULTS.md, session 9).
EVP_MD_CTX* digest_context() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  // Failure here means OpenSSL itself is broken; continuing would forge hashes.
  if (!md || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    throw std::logic_error("SHA-256 unavailable");
  return ctx.get();
}

}  // namespace

Digest sha256(std::initializer_list<std::string_view> parts) {
  auto* ctx = digest_context();
  Digest out{};
  unsigned int size = 0;
  for (auto part : parts) EVP_DigestUpdate(ctx, part.data(), part.size());
  EVP_DigestFinal_ex(ctx, out.data(), &size);
  return out;
}

Digest sha256(std::string_view bytes) { return sha256({bytes}); }

std::string hmac_sha256(std::string_view key, std::string_view message) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(),
            reinterpret_cast<unsigned char*>(out.data()), &size))
    throw std::logic_error("HMAC-SHA256 unavailable");
  out.resize(size);
  return out;
}

Digest bundle_key(std::string_view token_secret) {
  return sha256({"ergon-bundle-key", token_secret});
}

std::string to_hex(const Digest& digest) { return core::to_hex(digest.data(), digest.size()); }

std::optional<Digest> digest_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto first = core::parse_hex16(hex.substr(0, 32));
  auto second = core::parse_hex16(hex.substr(32));
  if (!first || !second) return std::nullopt;
  Digest value{};
  std::copy(first->begin(), first->end(), value.begin());
  std::copy(second->begin(), second->end(), value.begin() + 16);
  return value;
}

std::string_view as_bytes(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string random_bytes(std::size_t bytes) {
  std::string buffer(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buffer.data()), static_cast<int>(bytes)) != 1)
    throw std::logic_error("no randomness from OpenSSL");
  return buffer;
}

std::string random_hex(std::size_t bytes) {
  auto buffer = random_bytes(bytes);
  return core::to_hex(reinterpret_cast<const std::uint8_t*>(buffer.data()), bytes);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string raw_key(EVP_PKEY* key, bool is_private) {
  std::string out(32, '\0');
  std::size_t size = out.size();
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  int ok = is_private ? EVP_PKEY_get_raw_private_key(key, bytes, &size)
                      : EVP_PKEY_get_raw_public_key(key, bytes, &size);
  if (ok != 1 || size != 32) throw std::logic_error("Ed25519 unavailable");
  return out;
}

}  // namespace

SigningKey generate_signing_key() {
  PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  // As for SHA-256: without OpenSSL's Ed25519 no device could ever prove itself.
  if (!key) throw std::logic_error("Ed25519 key generation unavailable");
  return {raw_key(key.get(), true), raw_key(key.get(), false)};
}

std::optional<SigningKey> signing_key_from_private(std::string_view private_key) {
  if (private_key.size() != 32) return std::nullopt;
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(private_key.data()),
                                        private_key.size()),
           &EVP_PKEY_free);
  if (!key) return std::nullopt;
  return SigningKey{std::string(private_key), raw_key(key.get(), false)};
}

std::string sign(const SigningKey& key, std::string_view message) {
  PKey pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(key.private_key.data()),
                                   key.private_key.size()),
      &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signature(64, '\0');
  std::size_t size = signature.size();
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::logic_error("Ed25519 signing failed: the device key is damaged");
  return signature;
}

bool verify_signature(std::string_view public_key, std::string_view message,
                      std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  PKey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(public_key.data()),
                                        public_key.size()),
            &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace ergon::crypto

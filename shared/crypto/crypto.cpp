#include "shared/crypto/crypto.h"

#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "shared/core/ids.h"

namespace ergon::crypto {

Digest sha256(std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  Digest out{};
  unsigned int size = 0;
  // Failure here means OpenSSL itself is broken; continuing would forge hashes.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::logic_error("SHA-256 unavailable");
  for (auto part : parts) EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  EVP_DigestFinal_ex(ctx.get(), out.data(), &size);
  return out;
}

Digest sha256(std::string_view bytes) { return sha256({bytes}); }

std::string to_hex(const Digest& digest) { return core::to_hex(digest.data(), digest.size()); }

std::string_view as_bytes(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string random_hex(std::size_t bytes) {
  std::string buffer(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buffer.data()), static_cast<int>(bytes)) != 1)
    throw std::logic_error("no randomness from OpenSSL");
  return core::to_hex(reinterpret_cast<const std::uint8_t*>(buffer.data()), bytes);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ergon::crypto

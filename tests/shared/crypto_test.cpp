#include "shared/crypto/crypto.h"

#include <set>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "shared/core/ids.h"

using ergon::crypto::constant_time_equal;
using ergon::crypto::generate_signing_key;
using ergon::crypto::random_hex;
using ergon::crypto::sha256;
using ergon::crypto::sign;
using ergon::crypto::signing_key_from_private;
using ergon::crypto::SigningKey;
using ergon::crypto::to_hex;
using ergon::crypto::verify_signature;

namespace {

std::string from_hex(std::string_view hex) {
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    FAIL("not a lower-case hex digit: " << c);
    return 0;
  };
  REQUIRE(hex.size() % 2 == 0);
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1])));
  return bytes;
}

std::string hex_of(std::string_view bytes) {
  return ergon::core::to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string flip_bit(std::string bytes, std::size_t bit) {
  bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
  return bytes;
}

// RFC 8032, section 7.1, TEST 1.
constexpr std::string_view kRfcSecret =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";

}  // namespace

TEST_CASE("sha256 gives the FIPS 180-2 digests", "[crypto]") {
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Bytes, not C strings: a NUL inside counts.
  CHECK(sha256(std::string_view("a\0b", 3)) != sha256("a"));
}

TEST_CASE("sha256 over parts equals sha256 over their concatenation", "[crypto]") {
  CHECK(sha256({"a", "b", "c"}) == sha256("abc"));
  CHECK(sha256({"", "abc", ""}) == sha256("abc"));
  CHECK(sha256({}) == sha256(""));
  std::string big(100'000, 'q');
  CHECK(sha256({big, "tail"}) == sha256(big + "tail"));
  CHECK(sha256({"ab", "c"}) == sha256({"a", "bc"}));  // no framing: callers add their own
}

TEST_CASE("as_bytes is the raw digest", "[crypto]") {
  auto digest = sha256("abc");
  auto bytes = ergon::crypto::as_bytes(digest);
  REQUIRE(bytes.size() == 32);
  CHECK(hex_of(bytes) == to_hex(digest));
}

TEST_CASE("random_hex gives two lower-case hex digits per byte, never the same twice", "[crypto]") {
  CHECK(random_hex(0).empty());
  for (std::size_t bytes : {std::size_t{1}, std::size_t{16}, std::size_t{32}}) {
    auto hex = random_hex(bytes);
    CHECK(hex.size() == 2 * bytes);
    CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_hex(16));
  CHECK(seen.size() == 1000);
}

TEST_CASE("constant_time_equal compares whole strings", "[crypto]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "Secret"));
  CHECK_FALSE(constant_time_equal("secret", "secret "));
  CHECK_FALSE(constant_time_equal("secret", "secre"));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("an Ed25519 key signs and its public key verifies", "[crypto]") {
  SigningKey key = generate_signing_key();
  REQUIRE(key.private_key.size() == 32);
  REQUIRE(key.public_key.size() == 32);
  CHECK(key.private_key != key.public_key);
  CHECK(generate_signing_key().private_key != key.private_key);

  std::string message = "ergon-hello-proof-v1 and some binding";
  auto signature = sign(key, message);
  REQUIRE(signature.size() == 64);
  CHECK(verify_signature(key.public_key, message, signature));
  CHECK(sign(key, message) == signature);  // Ed25519 is deterministic
  CHECK(verify_signature(key.public_key, "", sign(key, "")));
  CHECK_FALSE(verify_signature(generate_signing_key().public_key, message, signature));
}

TEST_CASE("a flipped bit in the message, signature or public key fails verification", "[crypto]") {
  SigningKey key = generate_signing_key();
  std::string message = "binding|device|enrolment";
  auto signature = sign(key, message);
  REQUIRE(verify_signature(key.public_key, message, signature));
  for (std::size_t bit : {std::size_t{0}, std::size_t{7}, std::size_t{100}}) {
    CAPTURE(bit);
    CHECK_FALSE(verify_signature(key.public_key, flip_bit(message, bit), signature));
  }
  for (std::size_t bit : {std::size_t{0}, std::size_t{255}, std::size_t{256}, std::size_t{511}}) {
    CAPTURE(bit);
    CHECK_FALSE(verify_signature(key.public_key, message, flip_bit(signature, bit)));
  }
  for (std::size_t bit : {std::size_t{0}, std::size_t{128}, std::size_t{254}}) {
    CAPTURE(bit);
    CHECK_FALSE(verify_signature(flip_bit(key.public_key, bit), message, signature));
  }
}

TEST_CASE("wrong lengths fail verification without crashing", "[crypto]") {
  SigningKey key = generate_signing_key();
  std::string message = "m";
  auto signature = sign(key, message);
  CHECK_FALSE(verify_signature("", message, signature));
  CHECK_FALSE(verify_signature(key.public_key.substr(0, 31), message, signature));
  CHECK_FALSE(verify_signature(key.public_key + "x", message, signature));
  CHECK_FALSE(verify_signature(key.public_key, message, ""));
  CHECK_FALSE(verify_signature(key.public_key, message, signature.substr(0, 63)));
  CHECK_FALSE(verify_signature(key.public_key, message, signature + "x"));
  CHECK_FALSE(verify_signature(std::string(32, '\xff'), message, signature));  // not a point
  CHECK_FALSE(signing_key_from_private("").has_value());
  CHECK_FALSE(signing_key_from_private(key.private_key.substr(0, 31)).has_value());
  CHECK_FALSE(signing_key_from_private(key.private_key + "x").has_value());
}

TEST_CASE("signing_key_from_private rebuilds the same key pair", "[crypto]") {
  SigningKey key = generate_signing_key();
  auto rebuilt = signing_key_from_private(key.private_key);
  REQUIRE(rebuilt.has_value());
  CHECK(rebuilt->private_key == key.private_key);
  CHECK(rebuilt->public_key == key.public_key);
  CHECK(sign(*rebuilt, "x") == sign(key, "x"));
}

TEST_CASE("Ed25519 matches RFC 8032 test vector 1", "[crypto]") {
  auto key = signing_key_from_private(from_hex(kRfcSecret));
  REQUIRE(key.has_value());
  CHECK(hex_of(key->public_key) == kRfcPublic);
  auto signature = sign(*key, "");
  CHECK(hex_of(signature) == kRfcSignature);
  CHECK(verify_signature(from_hex(kRfcPublic), "", from_hex(kRfcSignature)));
  CHECK_FALSE(verify_signature(from_hex(kRfcPublic), "x", from_hex(kRfcSignature)));
}

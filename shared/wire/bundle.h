#pragma once
// The offline bundle file: the protocol's own messages behind a magic string and a format
// byte, with the request authenticated by the enrolment's bundle key (HMAC) and the device key
// (Ed25519), and the answer signed by the server's key. Encoding and decoding only: who checks
// which signature is the server's (server/bundle) and the client's (client/sync/bundle). Pure.

#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::wire {

inline constexpr std::string_view kBundleMagic = "ERGON-BUNDLE\n";
inline constexpr std::uint8_t kBundleFormat = 1;
/// A bundle file larger than this is refused before it is read (a directorate's weeks offline
/// fit in a few megabytes; a whole programme's snapshot in tens).
inline constexpr std::uintmax_t kMaxBundleBytes = 512u << 20;

enum class BundleKind : std::uint32_t { kRequest = 1, kAnswer = 2 };

/// The file's bytes.
std::string encode_bundle(const BundleFile& file);
/// The file in `bytes`; kCorrupt when it is no bundle or a damaged one, kVersionMismatch for a
/// format this program does not read, kInvalidArgument when it is the other kind (an answer
/// given where a request belongs), each saying which file and what to do.
core::Result<BundleFile> decode_bundle(std::string_view bytes, BundleKind expected,
                                       std::string_view name);

/// The bytes of the top-level length-delimited fields `numbers` of a serialized message (a
/// BundleRequest's hello and nonce, a BundleAnswer's certificate), read without decoding any
/// other field: what authenticates a bundle is checked before the rest is decoded, so a forged
/// file never costs the memory its millions of tiny fields would. Absent fields are missing
/// from the map; kCorrupt when the bytes are no message or a wanted field comes twice.
core::Result<std::map<int, std::string>> top_level_fields(std::string_view message,
                                                          std::initializer_list<int> numbers);

/// Reads a whole bundle file and decodes it (see decode_bundle).
core::Result<BundleFile> read_bundle(const std::filesystem::path& path, BundleKind expected);
/// Writes a bundle file whole: beside it first, flushed, then renamed into place.
core::Status write_bundle(const std::filesystem::path& path, const BundleFile& file);

}  // namespace ergon::wire

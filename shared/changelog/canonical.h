#pragma once
// The canonical byte encoding of a change: the project's own, fixed field order, integers
// big-endian, strings and lists length-prefixed. It feeds the SHA-256 chain, so its bytes must
// never change; golden vectors in tests/data pin them. A new layout gets a new version byte.
// Pure; thread-safe.

#include <string>

#include "shared/changelog/change.h"
#include "shared/core/result.h"

namespace ergon::changelog {

inline constexpr std::uint8_t kCanonicalVersion = 1;

/// "ERGC", version, then every field of the change in declaration order.
std::string canonical_bytes(const Change& change);

/// The inverse, for verification tools; fails on any byte that does not fit the layout.
core::Result<Change> parse_canonical(std::string_view bytes);

}  // namespace ergon::changelog

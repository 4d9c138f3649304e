#pragma once
// HOST:PORT text, as users type it on both ends. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <utility>

#include "shared/core/result.h"

namespace ergon::net {

/// Parses HOST:PORT or [IPv6]:PORT; kUsage with an example when malformed.
core::Result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text);

}  // namespace ergon::net

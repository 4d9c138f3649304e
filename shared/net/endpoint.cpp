#include "shared/net/endpoint.h"

namespace ergon::net {

core::Result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text) {
  auto bad = core::fail(core::ErrorCode::kUsage, "'" + text +
                                                     "' is not HOST:PORT; e.g. 127.0.0.1:7400, "
                                                     "0.0.0.0:7400 or [::1]:7400");
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return bad;
  auto number = std::stoul(port);
  if (number > 65535) return bad;
  return std::pair{host, static_cast<std::uint16_t>(number)};
}

}  // namespace ergon::net

#include "tests/support/raw_peer.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <poll.h>

#include "shared/net/tls.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"

namespace ergon::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct RawPeer::Impl {
  asio::io_context io;
  asio::ssl::context tls_context{net::client_context()};
  tcp::socket socket{io};
  std::optional<asio::ssl::stream<tcp::socket&>> tls;

  template <class F>
  auto on_stream(F&& f) {
    if (tls) return f(*tls);
    return f(socket);
  }

  // Waits until the socket is readable (or the TLS layer holds buffered bytes).
  bool readable(std::chrono::milliseconds deadline) {
    if (tls && SSL_pending(tls->native_handle()) > 0) return true;
    pollfd fd{socket.native_handle(), POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(deadline.count())) > 0;
  }

  bool read_exact(char* out, std::size_t n, std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    std::size_t got = 0;
    while (got < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readable(left)) return false;
      boost::system::error_code ec;
      auto k =
          on_stream([&](auto& s) { return s.read_some(asio::buffer(out + got, n - got), ec); });
      if (ec) return false;
      got += k;
    }
    return true;
  }
};

RawPeer::RawPeer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RawPeer::~RawPeer() = default;

std::unique_ptr<RawPeer> RawPeer::connect(int port, bool tls) {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  impl->socket.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port)), ec);
  if (ec) return nullptr;
  if (tls) {
    impl->tls.emplace(impl->socket, impl->tls_context);
    impl->tls->handshake(asio::ssl::stream_base::client, ec);
    if (ec) return nullptr;
  }
  return std::unique_ptr<RawPeer>(new RawPeer(std::move(impl)));
}

bool RawPeer::send(const std::string& bytes) {
  boost::system::error_code ec;
  impl_->on_stream([&](auto& s) { return asio::write(s, asio::buffer(bytes), ec); });
  return !ec;
}

bool RawPeer::send(const wire::Message& message) { return send(wire::encode_frame(message)); }

std::optional<wire::Message> RawPeer::read(std::chrono::milliseconds deadline) {
  unsigned char header[4];
  if (!impl_->read_exact(reinterpret_cast<char*>(header), 4, deadline)) return std::nullopt;
  auto length = wire::check_frame_length(header);
  if (!length) return std::nullopt;
  std::string body(*length, '\0');
  if (!impl_->read_exact(body.data(), body.size(), deadline)) return std::nullopt;
  auto message = wire::parse_message(body);
  if (!message) return std::nullopt;
  return *message;
}

std::string RawPeer::session_binding() {
  return impl_->tls ? net::session_binding(impl_->tls->native_handle()) : std::string();
}

wire::Message hello_message(const std::string& token, const std::string& client_device_id,
                            const crypto::SigningKey& key, const std::string& binding) {
  wire::Message m;
  m.set_request_id(1);
  auto* h = m.mutable_hello();
  h->set_min_version(wire::kProtocolVersion);
  h->set_max_version(wire::kProtocolVersion);
  h->set_token(token);
  h->set_client_device_id(client_device_id);
  h->set_user("raw peer");
  h->set_public_key(key.public_key);
  h->set_proof(crypto::sign(
      key, wire::hello_proof_payload(binding, client_device_id, token.substr(0, token.find('.')))));
  return m;
}

bool RawPeer::closed_by_server(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  char sink[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !impl_->readable(left)) return false;
    boost::system::error_code ec;
    impl_->on_stream([&](auto& s) { return s.read_some(asio::buffer(sink), ec); });
    if (ec) return true;  // EOF, reset or a TLS close: the server ended it
  }
}

wire::Change change_of(wire::EntityKind kind, const std::string& key, const std::string& group,
                       const model::FieldValues& values,
                       const std::optional<wire::Revision>& base) {
  wire::Change c;
  c.set_entity_kind(kind);
  c.set_entity_key(key);
  c.set_group(group);
  for (const auto& [name, value] : values) {
    auto* v = c.add_values();
    v->set_name(name);
    v->set_value(value);
  }
  c.set_base_kind(base ? wire::BASE_REVISION : wire::BASE_NONE);
  if (base) *c.mutable_base_revision() = *base;
  return c;
}

std::string frame_of(const std::string& body) {
  auto n = static_cast<std::uint32_t>(body.size());
  std::string frame{static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
                    static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  return frame + body;
}

}  // namespace ergon::testing

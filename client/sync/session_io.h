#pragma once
// The transport every conversation with the server shares: connect within a deadline, TLS with
// the pinned key (or --insecure TCP), the hello that proves the device key, and one request with
// its reply. sync_session.cpp (sync) and server_query.cpp (history, verification) talk over it.
// Each conversation runs on its own short-lived io_context on the calling thread.

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "client/store/local_store.h"
#include "shared/core/result.h"
#include "shared/crypto/crypto.h"
#include "shared/net/frame_io.h"
#include "shared/net/tls.h"
#include "shared/wire/convert.h"

namespace ergon::client::io {

namespace asio = boost::asio;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;
using core::ErrorCode;
using core::fail;

struct Settings {
  std::string server, token, fingerprint;
  bool insecure = false;
};

/// The server this home talks to; kUsage says how to set it up when it has none.
core::Result<Settings> settings_of(LocalStore& store);

/// A refusal from the server as this client's error; a refused hello's permission or argument
/// error is about access (kUnauthenticated, exit 4), a later request's keeps its code.
core::Error refused(const wire::Message& m, bool of_hello);

/// Connects within the deadline; kUnavailable with the address when it cannot.
asio::awaitable<core::Result<tcp::socket>> connect(const std::string& server,
                                                   std::chrono::milliseconds timeout);
/// The TLS handshake; returns the fingerprint of the key the server presented.
asio::awaitable<core::Result<std::string>> handshake(TlsStream& stream, const std::string& server,
                                                     std::chrono::milliseconds timeout);
/// The error for a server that presents another key than the pinned one.
core::Error wrong_key(const Settings& settings, const std::string& presented);

/// Sends `request` with the next id (into `next_id`), not waiting for its reply.
template <class Stream>
asio::awaitable<core::Status> send_request(Stream& stream, wire::Message request,
                                           std::uint64_t& next_id,
                                           std::chrono::milliseconds timeout) {
  request.set_request_id(++next_id);
  co_return co_await net::write_frame(stream, request, timeout);
}

/// Reads the reply to request `id`; a refusal becomes an error (about access for a hello).
template <class Stream>
asio::awaitable<core::Result<wire::Message>> read_reply(Stream& stream, std::uint64_t id,
                                                        bool of_hello,
                                                        std::chrono::milliseconds timeout) {
  auto reply = co_await net::read_frame(stream, timeout);
  if (!reply) co_return fail(reply.error());
  if (reply->has_error()) co_return fail(refused(*reply, of_hello));
  if (reply->request_id() != id)
    co_return fail(ErrorCode::kProtocol, "the server answered another request");
  co_return reply;
}

/// Sends `request` with the next id and reads its reply; a refusal becomes an error.
template <class Stream>
asio::awaitable<core::Result<wire::Message>> ask(Stream& stream, wire::Message request,
                                                 std::uint64_t& next_id,
                                                 std::chrono::milliseconds timeout) {
  bool of_hello = request.has_hello();
  if (auto sent = co_await send_request(stream, std::move(request), next_id, timeout); !sent)
    co_return fail(sent.error());
  co_return co_await read_reply(stream, next_id, of_hello, timeout);
}

// The TLS session binding that the device key's proof signs (empty over --insecure).
template <class Stream>
std::string binding_of(Stream& stream) {
  if constexpr (std::is_same_v<Stream, tcp::socket>)
    return {};
  else
    return net::session_binding(stream.native_handle());
}

// The hello this device sends: token, device id, user, public key, and the key's proof over
// this TLS session.
template <class Stream>
core::Result<wire::Message> make_hello(Stream& stream, LocalStore& store) {
  wire::Message hello;
  auto* h = hello.mutable_hello();
  h->set_min_version(wire::kProtocolVersion);
  h->set_max_version(wire::kProtocolVersion);
  auto token = store.setting("token");
  h->set_token(token);
  const auto& id = store.device().device_id.bytes();
  h->set_client_device_id(std::string(reinterpret_cast<const char*>(id.data()), id.size()));
  h->set_user(store.device().user);
  auto key = store.device_key();
  if (!key) return fail(key.error());
  h->set_public_key(key->public_key);
  h->set_proof(
      crypto::sign(*key, wire::hello_proof_payload(binding_of(stream), h->client_device_id(),
                                                   token.substr(0, token.find('.')))));
  return hello;
}

/// Connects, checks the pinned key, and runs `talk.run(stream)` (a member coroutine template
/// over the stream type): the Talk lives in this frame for the whole conversation.
template <class Talk>
asio::awaitable<core::Result<typename Talk::Result>> run_connected(
    Settings settings, std::chrono::milliseconds timeout, Talk talk) {
  auto socket = co_await connect(settings.server, timeout);
  if (!socket) co_return fail(socket.error());
  if (settings.insecure) co_return co_await talk.run(*socket);

  auto context = net::client_context();
  TlsStream stream(std::move(*socket), context);
  auto presented = co_await handshake(stream, settings.server, timeout);
  if (!presented) co_return fail(presented.error());
  if (*presented != settings.fingerprint) co_return fail(wrong_key(settings, *presented));
  auto result = co_await talk.run(stream);
  boost::system::error_code ignored;
  stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  co_return result;
}

/// Runs one conversation to its end on a new io_context.
template <class T>
core::Result<T> run_on_new_context(asio::awaitable<core::Result<T>> work) {
  asio::io_context io(1);
  core::Result<T> result = fail(ErrorCode::kInternal, "the sync did not finish");
  asio::co_spawn(io, std::move(work), [&](const std::exception_ptr& e, core::Result<T> r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        result = fail(ErrorCode::kUnavailable, std::string("the connection failed: ") + ex.what());
      }
      return;
    }
    result = std::move(r);
  });
  io.run();
  return result;
}

}  // namespace ergon::client::io

#include "client/sync/session_io.h"

#include "shared/net/endpoint.h"

namespace ergon::client::io {

core::Result<Settings> settings_of(LocalStore& store) {
  Settings settings{store.setting("server"), store.setting("token"), store.setting("fingerprint"),
                    store.setting("insecure") == "1"};
  if (settings.server.empty() || settings.token.empty())
    return fail(ErrorCode::kUsage,
                "this client has no server yet; run 'ergon init --server HOST:PORT --token TOKEN' "
                "with the token from 'ergond enrol'");
  if (!settings.insecure && settings.fingerprint.empty())
    return fail(ErrorCode::kUsage, "no pinned server key; run 'ergon init --server " +
                                       settings.server + " --token … --fingerprint SHA256:…'");
  return settings;
}

core::Error refused(const wire::Message& m, bool of_hello) {
  auto code = wire::from_proto(m.error().code());
  // A refused hello is about access, not about this client's input; a refused request after
  // it (a stage move out of order) keeps the server's code: exit 3, as a local refusal.
  if (of_hello && (code == ErrorCode::kPermissionDenied || code == ErrorCode::kInvalidArgument))
    code = ErrorCode::kUnauthenticated;
  return {code, "the server refused: " + m.error().message()};
}

core::Error wrong_key(const Settings& settings, const std::string& presented) {
  return {ErrorCode::kCorrupt,
          "the server at " + settings.server + " presented the key " + presented +
              " but this client pinned " + settings.fingerprint +
              ": if the server was reinstalled, confirm the new key with its administrator "
              "('ergond fingerprint') and run 'ergon init --server " +
              settings.server +
              " --token … --fingerprint NEW'; otherwise someone may be intercepting"};
}

namespace {

// async_connect reduced to the (error, size) shape with_deadline takes. The caller co_awaits it
// at once, so the references stay valid.
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> connect_any(
    tcp::socket& socket, const tcp::resolver::results_type& endpoints) {
  auto [ec, endpoint] =
      co_await asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable));
  (void)endpoint;
  co_return std::tuple{ec, std::size_t{0}};
}

}  // namespace

// Connects within the deadline; kUnavailable with the address when it cannot.
asio::awaitable<core::Result<tcp::socket>> connect(const std::string& server,
                                                   std::chrono::milliseconds timeout) {
  auto where = net::parse_host_port(server);
  if (!where) co_return fail(where.error());
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(
      where->first, std::to_string(where->second), asio::as_tuple(asio::use_awaitable));
  if (rec)
    co_return fail(ErrorCode::kUnavailable,
                   "cannot find the server " + server + ": " + rec.message());
  tcp::socket socket(executor);
  auto connected = co_await net::with_deadline(connect_any(socket, endpoints), timeout,
                                               "connecting to " + server);
  if (!connected)
    co_return fail(ErrorCode::kUnavailable, "cannot reach the server " + server + ": " +
                                                connected.error().message +
                                                "; check the address and that ergond is running");
  socket.set_option(tcp::no_delay(true));
  co_return socket;
}

asio::awaitable<core::Result<std::string>> handshake(TlsStream& stream, const std::string& server,
                                                     std::chrono::milliseconds timeout) {
  auto shook = co_await net::with_deadline(
      stream.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable)),
      timeout, "the TLS handshake with " + server);
  if (!shook) co_return fail(ErrorCode::kUnavailable, shook.error().message);
  co_return net::peer_fingerprint(stream.native_handle());
}

}  // namespace ergon::client::io

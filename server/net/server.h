#pragma once
// Server: the acceptor, the signals and the live sessions (http/server's shape, in C++20
// coroutines on one io_context). Each connection is a Session coroutine: TLS handshake (unless
// insecure) → hello/welcome → push and pull requests until the client closes. Shutdown on
// SIGINT/SIGTERM closes the acceptor and every session's socket; run() then returns by itself.
// Everything here lives on the io_context's one thread, except the StoreWriter's commits.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "server/api/request_router.h"
#include "server/net/store_writer.h"
#include "server/store/master_store.h"
#include "shared/net/endpoint.h"

namespace ergon::server {

using net::parse_host_port;

struct ServerOptions {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{120'000};  // a client pings well within this
  std::size_t max_sessions = 256;
};

/// Owns the closers of live sessions, so shutdown can end them all.
class SessionRegistry {
 public:
  std::uint64_t add(std::function<void()> close);
  void remove(std::uint64_t id);
  void close_all();
  std::size_t size() const { return closers_.size(); }

 private:
  std::uint64_t next_ = 1;
  std::map<std::uint64_t, std::function<void()>> closers_;
};

class Server {
 public:
  /// `tls` empty means plain TCP (--insecure). The references must outlive the server.
  Server(boost::asio::io_context& io, MasterStore& reader, StoreWriter& writer,
         std::optional<boost::asio::ssl::context>& tls, ServerOptions options);

  /// Binds and listens; returns the bound endpoint (port 0 picks a free port).
  core::Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, std::uint16_t port);
  /// Starts accepting and watching for SIGINT/SIGTERM.
  void start();
  /// Closes the acceptor and every session.
  void request_stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  template <class Stream>
  boost::asio::awaitable<void> serve(std::shared_ptr<Stream> stream, std::string peer);
  template <class Stream>
  boost::asio::awaitable<void> refuse(Stream& stream, const std::string& peer,
                                      std::uint64_t request_id, const core::Error& error);

  boost::asio::io_context& io_;
  MasterStore& reader_;
  StoreWriter& writer_;
  std::optional<boost::asio::ssl::context>& tls_;
  ServerOptions options_;
  RequestRouter router_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  SessionRegistry registry_;
  bool stopping_ = false;
};

}  // namespace ergon::server

#pragma once
// Server: the acceptor, the signals and the live sessions (http/server's shape, in C++20
// coroutines on one io_context). Each connection is a Session. Past max_connections a new
// connection is told so and closed; a further margin beyond that is closed without a word.
// A watch closes the sessions of a device revoked by `ergond revoke` (another process) within
// a second. Shutdown on SIGINT/SIGTERM closes the acceptor and every session's socket; run()
// then returns by itself. Everything here lives on the io_context's one thread, except the
// StoreWriter's commits.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "server/api/request_router.h"
#include "server/net/session.h"
#include "server/net/session_registry.h"
#include "server/net/store_writer.h"
#include "server/net/token_throttle.h"
#include "server/store/master_store.h"
#include "shared/net/endpoint.h"
#include "shared/net/memory_budget.h"

namespace ergon::server {

using net::parse_host_port;

class Server {
 public:
  /// Connections beyond max_connections that are still answered with a refusal.
  static constexpr std::size_t kRefusalMargin = 64;
  /// How often the revocation watch looks for a change by another process.
  static constexpr std::chrono::milliseconds kRevocationPoll{250};

  /// `tls` empty means plain TCP (--insecure). The references must outlive the server.
  Server(boost::asio::io_context& io, MasterStore& reader, StoreWriter& writer,
         std::optional<boost::asio::ssl::context>& tls, ServerOptions options);

  /// Binds and listens; returns the bound endpoint (port 0 picks a free port).
  core::Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, std::uint16_t port);
  /// Starts accepting, watching for revocations and for SIGINT/SIGTERM.
  void start();
  /// Closes the acceptor and every session.
  void request_stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> watch_revocations();
  void spawn_session(boost::asio::ip::tcp::socket socket, const std::string& peer, bool over_limit);

  boost::asio::io_context& io_;
  MasterStore& reader_;
  std::optional<boost::asio::ssl::context>& tls_;
  ServerOptions options_;
  RequestRouter router_;
  SessionRegistry registry_;
  TokenThrottle throttle_;
  net::MemoryBudget unadmitted_;
  net::MemoryBudget admitted_;
  SessionShared shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer revocation_timer_;
  bool stopping_ = false;
};

}  // namespace ergon::server
